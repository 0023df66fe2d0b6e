// Small pieces every view uses: links, breadcrumbs, explanations with n and small-sample flags,
// figures with intervals, the live-update status line, loading and error states.
import { type ApiError, type StreamState } from './api';
import { h, type Child } from './dom';
import { time, num } from './format';
import { t, tCode, type MessageKey } from './i18n';
import { errorMessage } from './errors';
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

/** "How this figure is computed", from the service's Explanation, with n and the flag. The text is
 *  the interface's own wording for the method (by its key); the service's English wording is
 *  shown only for a method this interface does not know, marked lang="en". */
export function explanation(e: Explanation | undefined, extra: Child[] = []): HTMLElement | null {
  if (!e) return null;
  const translated = tCode('method', e.method_key);
  const known = translated !== e.method_key;
  return h(
    'details',
    { class: 'explanation' },
    h('summary', null, t('common.how_computed'), ' · ', t('common.n_short', { n: num(e.n) }), ' ', smallSample(e.small_sample)),
    h('p', { lang: known ? null : 'en' }, known ? translated : e.method),
    h('p', null, t('common.n_cases', { n: num(e.n) })),
    extra,
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
  return errorMessage(error).text;
}

export function errorBox(error: unknown, retry?: () => void): HTMLElement {
  const message = errorMessage(error);
  return h(
    'div',
    { class: 'alert alert-error', role: 'alert', 'data-testid': 'error' },
    h('p', { lang: message.lang }, message.text),
    retry ? h('button', { type: 'button', onclick: retry }, t('common.retry')) : null,
  );
}

/** The status line of a live subscription. It tells the truth: the dot is green only while
 *  pushes arrive; it is grey when paused (a historical view) and amber while the stream is down. */
export class LiveStatus {
  readonly element = h('p', { class: 'live', role: 'status', 'aria-live': 'polite', 'data-testid': 'live-status' });
  private state: StreamState = 'connecting';
  private paused = false;
  private last = '';
  private error?: ApiError;

  setState(state: StreamState, error?: ApiError): void {
    this.state = state;
    this.error = error;
    this.render();
  }

  /** A historical view shows no live figures; the line says so until it is resumed. */
  pause(paused: boolean): void {
    this.paused = paused;
    this.render();
  }

  updated(revision: string): void {
    this.last = t('live.updated', { time: time(new Date()), revision });
    this.element.dataset.revision = revision;
    this.render();
  }

  private render(): void {
    const state = this.paused ? 'paused' : this.state;
    const text =
      state === 'failed'
        ? t('live.failed', { message: this.error ? errorText(this.error) : '' })
        : t(`live.${state}` as MessageKey);
    this.element.className = `live live-${state}`;
    this.element.dataset.state = state;
    this.element.replaceChildren(
      h('span', { class: 'live-dot', 'aria-hidden': 'true' }),
      text,
      this.last && state === 'live' ? ` · ${this.last}` : '',
    );
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
