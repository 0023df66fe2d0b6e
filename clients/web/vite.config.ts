// The build the gateway serves (clients/web/dist). In development, `npm run dev` proxies /api to
// a gateway on GATEWAY (default http://127.0.0.1:8080).
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // exceljs (Excel export, ~0.9 MB) is its own chunk, loaded only when someone exports.
    chunkSizeWarningLimit: 1000,
  },
  server: {
    proxy: { '/api': process.env.GATEWAY ?? 'http://127.0.0.1:8080' },
  },
});
