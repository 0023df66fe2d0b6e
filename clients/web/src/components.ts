// Small pieces every view uses: links, breadcrumbs, explanations with n and small-sample flags,
// figures with intervals, the live-update status line, loading and error states.
import { ApiError, type StreamState } from './api';
import { h, type Child } from './dom';
import { time, num } from './format';
import { t, tCode, type MessageKey } from './i18n';
import { localizeDetail } from './localize';
import type { Explanation } from './types';

/** An in-app link; the router handles the click without reloading the page. */
export function link(href: string, text: Child, attrs: Record<string, string> = {}): HTMLAnchorElement {
  return h('a', { href, 'data-link': true, ...attrs }, text);
}

export function breadcrumbs(items: Array<[string, string?]>): HTMLElement {
  return h(
    'nav',
    { 'aria-label': t('common.breadcrumb'), class: 'breadcrumbs' },
    h(
      'ol',
      null,
      items.map(([text, href], i) =>
        h('li', null, href && i < items.length - 1 ? link(href, text) : h('span', { 'aria-current': 'page' }, text)),
      ),
    ),
  );
}

export function smallSample(flag: boolean): HTMLElement | null {
  if (!flag) return null;
  return h('span', { class: 'badge badge-warn', title: t('common.small_sample.title') }, t('common.small_sample'));
}

/** "How this figure is computed", from the service's Explanation, with n and the flag. */
export function explanation(e: Explanation | undefined, extra: Child[] = []): HTMLElement | null {
  if (!e) return null;
  const key = `method.${e.method_key}` as MessageKey;
  const translated = tCode('method', e.method_key);
  const text = translated === e.method_key ? e.method : translated;
  return h(
    'details',
    { class: 'explanation' },
    h('summary', null, t('common.how_computed'), ' · ', t('common.n'), ' = ', num(e.n), ' ', smallSample(e.small_sample)),
    h('p', { lang: translated === e.method_key ? 'en' : null }, text),
    h('p', null, t('common.n_cases', { n: num(e.n) })),
    extra,
    // The service's own wording, which names the exact parameters used.
    translated !== e.method_key && key ? h('p', { class: 'muted', lang: 'en' }, e.method) : null,
  );
}

export function statCard(labelText: string, value: Child, testId: string, note?: Child): HTMLElement {
  return h(
    'div',
    { class: 'stat', 'data-testid': testId },
    h('div', { class: 'stat-value' }, value),
    h('div', { class: 'stat-label' }, labelText),
    note ? h('div', { class: 'stat-note' }, note) : null,
  );
}

export function loading(): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, t('common.loading'));
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'ABORTED') return t('error.ABORTED');
    if (error.code === 'PERMISSION_DENIED') return t('error.PERMISSION_DENIED', { message: error.message });
    if (error.code === 'NOT_FOUND') return t('error.NOT_FOUND', { message: error.message });
    if (error.code === 'UNAVAILABLE') return t('error.UNAVAILABLE');
    return t('common.error', { message: error.message });
  }
  return t('common.error', { message: String(error) });
}

export function errorBox(error: unknown, retry?: () => void): HTMLElement {
  return h(
    'div',
    { class: 'alert alert-error', role: 'alert' },
    h('p', null, errorText(error)),
    retry ? h('button', { type: 'button', onclick: retry }, t('common.retry')) : null,
  );
}

/** The status line of a live subscription. */
export class LiveStatus {
  readonly element = h('p', { class: 'live', role: 'status', 'aria-live': 'polite', 'data-testid': 'live-status' });
  private state: StreamState = 'connecting';
  private last = '';

  setState(state: StreamState, error?: ApiError): void {
    this.state = state;
    this.render(error);
  }

  updated(revision: string): void {
    this.last = t('live.updated', { time: time(new Date()), revision });
    this.element.dataset.revision = revision;
    this.render();
  }

  private render(error?: ApiError): void {
    const text =
      this.state === 'failed'
        ? t('live.failed', { message: error?.message ?? '' })
        : t(`live.${this.state}` as MessageKey);
    this.element.className = `live live-${this.state}`;
    this.element.replaceChildren(h('span', { class: 'live-dot', 'aria-hidden': 'true' }), text, this.last ? ` · ${this.last}` : '');
  }
}

/** A table header cell with a scope, for screen readers. */
export function th(text: Child, attrs: Record<string, string> = {}): HTMLTableCellElement {
  return h('th', { scope: 'col', ...attrs }, text);
}

export function reasonBadges(reasons: string[]): HTMLElement[] {
  return reasons.map((r) => h('span', { class: `badge reason reason-${r.toLowerCase()}` }, tCode('reason', r)));
}

/** An agenda item's detail as a small note, in Danish when its wording is known. */
export function detailNote(detail: string): HTMLElement {
  const note = localizeDetail(detail);
  return h('small', { class: 'muted', lang: note.lang }, ` ${note.text}`);
}
