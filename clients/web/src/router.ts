// Client-side routes on real paths (/team/T1/projection); the gateway answers every such path
// with index.html. Links marked data-link navigate without a reload.
import { errorBox } from './components';
import { h } from './dom';

export interface View {
  element: HTMLElement;
  /** Ends subscriptions and destroys charts when the view is left. */
  dispose?: () => void;
}

export type Render = (params: string[], query: URLSearchParams) => View | Promise<View>;

interface Route {
  pattern: RegExp;
  render: Render;
}

export class Router {
  private routes: Route[] = [];
  private current?: View;
  private generation = 0;
  private rendered = '';

  constructor(
    private readonly outlet: () => HTMLElement,
    private readonly fallback: Render,
    private readonly onNavigate: (path: string) => void,
  ) {
    window.addEventListener('popstate', () => {
      // Following an in-page #anchor also fires popstate; the view stays as it is.
      if (location.pathname + location.search === this.rendered) return;
      void this.render();
    });
    document.addEventListener('click', (event) => {
      const anchor = (event.target as Element | null)?.closest?.('a[data-link]') as HTMLAnchorElement | null;
      if (!anchor || event.defaultPrevented || event.button !== 0) return;
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      this.go(anchor.getAttribute('href') ?? '/');
    });
  }

  add(path: string, render: Render): this {
    // "/team/:team/projection" -> ^/team/([^/]+)/projection$
    const pattern = new RegExp(`^${path.replace(/:[a-z]+/g, '([^/]+)')}$`);
    this.routes.push({ pattern, render });
    return this;
  }

  go(path: string, replace = false): void {
    if (replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    void this.render();
  }

  /** Renders the view for the current location; a newer navigation wins over a slower one. */
  async render(): Promise<void> {
    const generation = ++this.generation;
    const url = new URL(location.href);
    this.rendered = url.pathname + url.search;
    this.current?.dispose?.();
    this.current = undefined;
    this.onNavigate(url.pathname);
    this.outlet().replaceChildren(h('p', { class: 'loading', role: 'status' }, '…'));
    let view: View;
    const route = this.routes.find((r) => r.pattern.test(url.pathname));
    const params = route ? (route.pattern.exec(url.pathname) ?? []).slice(1).map(decodeURIComponent) : [];
    try {
      view = await (route ? route.render(params, url.searchParams) : this.fallback([], url.searchParams));
    } catch (error) {
      view = { element: errorBox(error, () => void this.render()) };
    }
    if (generation !== this.generation) {
      view.dispose?.();
      return;
    }
    this.current = view;
    this.outlet().replaceChildren(view.element);
    const heading = this.outlet().querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
  }

  /** Leaves the current view (on logout). */
  clear(): void {
    this.generation += 1;
    this.current?.dispose?.();
    this.current = undefined;
    this.outlet().replaceChildren();
  }
}
