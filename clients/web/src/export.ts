// Export of what a view shows, as CSV (semicolon-separated, UTF-8 with BOM, as Danish Excel
// opens it) and as an Excel workbook (exceljs, bundled and loaded only when asked for). The
// columns are the view's own headings, in the user's language; counts stay numbers.
import { h } from './dom';
import { t } from './i18n';

export type Cell = string | number | null;

export interface Sheet {
  /** File name without extension, e.g. "sagsstamme-T1". */
  name: string;
  headings: string[];
  rows: Cell[][];
}

function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? String(value).replace('.', ',') : value;
  return /[";\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The sheet as CSV text (semicolons, CRLF), as Danish spreadsheets expect. */
export function toCsv(sheet: Sheet): string {
  return [sheet.headings, ...sheet.rows].map((row) => row.map(csvCell).join(';')).join('\r\n') + '\r\n';
}

export function downloadCsv(sheet: Sheet): void {
  download(new Blob(['\ufeff', toCsv(sheet)], { type: 'text/csv;charset=utf-8' }), `${sheet.name}.csv`);
}

export async function downloadExcel(sheet: Sheet): Promise<void> {
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.Workbook();
  workbook.creator = t('app.title');
  const ws = workbook.addWorksheet(sheet.name.slice(0, 31));
  ws.addRow(sheet.headings).font = { bold: true };
  for (const row of sheet.rows) ws.addRow(row.map((c) => (c === null ? '' : c)));
  ws.columns.forEach((column, i) => {
    const longest = Math.max(sheet.headings[i]?.length ?? 8, ...sheet.rows.map((r) => String(r[i] ?? '').length));
    column.width = Math.min(60, Math.max(8, longest + 2));
  });
  ws.views = [{ state: 'frozen', ySplit: 1 }];
  const buffer = await workbook.xlsx.writeBuffer();
  download(new Blob([buffer], { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }), `${sheet.name}.xlsx`);
}

/** "Eksportér: CSV · Excel" buttons for a sheet built when clicked. */
export function exportButtons(sheet: () => Sheet): HTMLElement {
  const status = h('span', { class: 'muted', role: 'status' });
  const excel = h(
    'button',
    {
      type: 'button',
      class: 'secondary small',
      'data-testid': 'export-xlsx',
      onclick: async () => {
        excel.disabled = true;
        try {
          await downloadExcel(sheet());
          status.textContent = '';
        } catch {
          status.textContent = t('export.failed');
        } finally {
          excel.disabled = false;
        }
      },
    },
    t('export.excel'),
  );
  return h(
    'div',
    { class: 'export', role: 'group', 'aria-label': t('export.label') },
    h('span', null, t('export.label'), ': '),
    h('button', { type: 'button', class: 'secondary small', 'data-testid': 'export-csv', onclick: () => downloadCsv(sheet()) }, t('export.csv')),
    ' ',
    excel,
    status,
  );
}
