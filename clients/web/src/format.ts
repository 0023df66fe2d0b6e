// Numbers, months and dates in the reader's language.
import { lang } from './i18n';
import type { Estimate } from './types';

function locale(): string {
  return lang() === 'da' ? 'da-DK' : 'en-GB';
}

export function num(value: number | string | undefined, digits = 0): string {
  const n = typeof value === 'string' ? Number(value) : (value ?? 0);
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);
}

export function pct(share: number, digits = 0): string {
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: digits }).format(share);
}

/** "12 (9–16)": the expected value and its 80% interval; counts are whole numbers. */
export function estimate(e: Estimate | undefined, digits = 0): string {
  if (!e) return '–';
  return `${num(e.expected, digits)} (${num(e.p10, 0)}–${num(e.p90, 0)})`;
}

/** "2027-03" -> "mar. 2027". */
export function month(value: string): string {
  if (!/^\d{4}-\d{2}$/.test(value)) return value || '–';
  const [y, m] = value.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(Date.UTC(y, m - 1, 1)),
  );
}

/** "2027-03-14" -> "14. mar. 2027". */
export function date(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return value || '–';
  const [y, m, d] = value.slice(0, 10).split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

export function time(value: Date): string {
  return new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(value);
}

export function dateTime(value: string): string {
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) return value || '–';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(parsed);
}

/** Today in the browser's calendar, YYYY-MM-DD. */
export function today(): string {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** YYYY-MM plus `months`. */
export function addMonths(value: string, months: number): string {
  const [y, m] = value.split('-').map(Number);
  const index = y * 12 + (m - 1) + months;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** "+1,2", "−0,4", "0,0": a change, always with its sign unless it rounds to zero. */
export function signed(value: number | undefined, digits = 1): string {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits, signDisplay: 'exceptZero' }).format(value ?? 0);
}
