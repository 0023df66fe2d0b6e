// Forecast adjustments (issue 11): a team leader's (own team) or manager's own figure for a team's
// closures in a month and outcome group, with a reason, shown beside the calibrated model's
// figure, which it never changes. Every edit is kept (who, when, from, to, why); an edit names
// the version it replaces, so two leaders editing at once do not overwrite each other. As of a
// past day the page shows the adjustments in force then, read-only.
import { call, idempotencyKey } from '../api';
import { errorBox, th } from '../components';
import { active, ctx, outcomeLabel, staffName } from '../context';
import { h } from '../dom';
import { field, FormErrors, select } from '../forms';
import { dateTime, month, num } from '../format';
import { t } from '../i18n';
import type { ForecastAdjustment, ForecastAdjustments, Projection } from '../types';

export interface AdjustmentSection {
  element: HTMLElement;
  /** Shows the adjustments beside `calibrated` (the calibrated model's team projection); null
   *  when they do not apply (another scope, or filtered by case type). */
  render(calibrated: Projection | null, asOf: string): void;
}

const ALL = 'ALL';

function figureText(a: ForecastAdjustment | undefined): string {
  if (!a) return '–';
  return a.cleared ? t('adjust.cleared') : num(a.figure, 1);
}

export function adjustmentSection(team: string): AdjustmentSection {
  const me = ctx().me;
  const body = h('div', { 'data-testid': 'adjustments-body' });
  const element = h(
    'section',
    { class: 'card adjustments', 'data-testid': 'adjustments', 'aria-labelledby': 'adjustments-h' },
    h('h2', { id: 'adjustments-h' }, t('adjust.heading')),
    h('p', { class: 'muted' }, t('adjust.intro')),
    body,
  );
  const mayEdit = (me.role === 'TEAM_LEADER' && me.team === team) || me.role === 'MANAGER';
  let generation = 0;
  // Kept across renders so that a live refresh does not lose what the user is typing.
  let form: HTMLFormElement | null = null;
  let current: ForecastAdjustment[] = [];
  let months: string[] = [];
  let key = idempotencyKey();
  let last: { calibrated: Projection; asOf: string } | null = null;

  const currentOf = (m: string, outcome: string) => current.find((a) => a.month === m && a.outcome === outcome);

  function editForm(): HTMLFormElement {
    const outcomes: Array<[string, string]> = [[ALL, t('adjust.all_outcomes')], ...active(ctx().catalogue.outcomes).map((o): [string, string] => [o.code, outcomeLabel(o.code)])];
    const fields = {
      month: field(t('adjust.month'), select('month', months.map((m) => [m, month(m)]), months[0] ?? '')),
      outcome: field(t('adjust.outcome'), select('outcome', outcomes, ALL)),
      figure: field(t('adjust.figure'), h('input', { type: 'number', name: 'figure', min: 0, step: 0.1, inputmode: 'decimal', 'data-testid': 'adjust-figure' })),
      reason: field(t('adjust.reason'), h('textarea', { name: 'reason', rows: 2, maxlength: 4000, 'data-testid': 'adjust-reason' }), t('adjust.reason.hint')),
    };
    fields.month.control.setAttribute('data-testid', 'adjust-month');
    fields.outcome.control.setAttribute('data-testid', 'adjust-outcome');
    const errors = new FormErrors({ month: fields.month, outcome: fields.outcome, figure: fields.figure, reason: fields.reason });
    const save = h('button', { type: 'submit', 'data-testid': 'adjust-save' }, t('adjust.save'));
    const clear = h('button', { type: 'button', class: 'secondary', 'data-testid': 'adjust-clear' }, t('adjust.clear'));
    const inForce = h('p', { class: 'muted', 'data-testid': 'adjust-in-force' });
    const showInForce = () => {
      const a = currentOf(fields.month.control.value, fields.outcome.control.value);
      inForce.textContent = a && !a.cleared ? t('adjust.in_force', { figure: num(a.figure, 1), by: a.set_by_name || staffName(a.set_by) }) : t('adjust.none_in_force');
      clear.disabled = !a || a.cleared;
    };
    fields.month.control.addEventListener('change', showInForce);
    fields.outcome.control.addEventListener('change', showInForce);
    const submit = async (clearing: boolean) => {
      const m = fields.month.control.value;
      const outcome = fields.outcome.control.value;
      const value = (fields.figure.control as HTMLInputElement).value;
      save.disabled = clear.disabled = true;
      try {
        await call<ForecastAdjustment>('ForecastService', 'SetForecastAdjustment', {
          team,
          month: m,
          outcome,
          figure: clearing ? 0 : value === '' ? -1 : Number(value),
          clear: clearing,
          reason: (fields.reason.control as HTMLTextAreaElement).value,
          base_version: currentOf(m, outcome)?.version ?? 0,
          idempotency_key: key,
        });
        key = idempotencyKey();
        (fields.figure.control as HTMLInputElement).value = '';
        (fields.reason.control as HTMLTextAreaElement).value = '';
        errors.success(t(clearing ? 'adjust.cleared_saved' : 'adjust.saved'));
        if (last) await load(last.calibrated, last.asOf);
      } catch (error) {
        // Someone else edited meanwhile: show the figures as they are now, then the user decides.
        errors.show(error, () => {
          errors.clear();
          if (last) void load(last.calibrated, last.asOf);
        });
      } finally {
        save.disabled = false;
        showInForce();
      }
    };
    const built = h(
      'form',
      { class: 'edit-form', 'aria-labelledby': 'adjust-form-h', novalidate: true, 'data-testid': 'adjust-form' },
      h('h3', { id: 'adjust-form-h' }, t('adjust.form')),
      errors.alert,
      h('div', { class: 'field-row' }, fields.month.wrapper, fields.outcome.wrapper, fields.figure.wrapper),
      fields.reason.wrapper,
      inForce,
      h('div', { class: 'form-actions' }, save, clear),
    );
    built.addEventListener('submit', (event) => {
      event.preventDefault();
      void submit(false);
    });
    clear.addEventListener('click', () => void submit(true));
    (built as HTMLFormElement & { refresh?: () => void }).refresh = () => {
      const monthSelect = fields.month.control as HTMLSelectElement;
      const chosen = monthSelect.value;
      monthSelect.replaceChildren(...months.map((m) => h('option', { value: m }, month(m))));
      if (months.includes(chosen)) monthSelect.value = chosen;
      showInForce();
    };
    showInForce();
    return built;
  }

  async function load(calibrated: Projection, asOf: string): Promise<void> {
    const mine = ++generation;
    last = { calibrated, asOf };
    months = [...new Set(calibrated.closures.map((c) => c.month))].sort();
    let listed: ForecastAdjustments;
    try {
      listed = await call<ForecastAdjustments>('ForecastService', 'ListForecastAdjustments', {
        team,
        as_of: asOf,
        from_month: months[0] ?? '',
        to_month: months[months.length - 1] ?? '',
      });
    } catch (error) {
      if (mine === generation) body.replaceChildren(errorBox(error, () => void load(calibrated, asOf)));
      return;
    }
    if (mine !== generation) return;
    current = listed.current;
    const model = (m: string, outcome: string) => calibrated.closures.find((c) => c.month === m && c.outcome === outcome)?.closures.expected;
    // Every month's total, and each outcome group that has an adjustment in force.
    const rows: Array<[string, string]> = [];
    for (const m of months) {
      rows.push([m, ALL]);
      for (const a of current) if (a.month === m && a.outcome !== ALL && !a.cleared) rows.push([m, a.outcome]);
    }
    const table = h(
      'table',
      { class: 'data', 'data-testid': 'adjustments-table' },
      h('caption', null, t('adjust.table')),
      h('thead', null, h('tr', null, th(t('common.month')), th(t('adjust.outcome')), th(t('adjust.model')), th(t('adjust.adjusted')), th(t('adjust.reason')), th(t('adjust.set_by')))),
      h(
        'tbody',
        null,
        rows.map(([m, outcome]) => {
          const a = currentOf(m, outcome);
          const shown = a && !a.cleared ? a : undefined;
          const value = model(m, outcome);
          return h(
            'tr',
            { 'data-testid': `adjust-row-${m}-${outcome}` },
            h('th', { scope: 'row' }, month(m)),
            h('td', null, outcome === ALL ? t('adjust.all_outcomes') : outcomeLabel(outcome)),
            h('td', { class: 'num', 'data-testid': `adjust-model-${m}-${outcome}` }, value === undefined ? '–' : num(value, 1)),
            h('td', { class: `num${shown ? ' adjusted' : ''}`, 'data-testid': `adjust-value-${m}-${outcome}` }, figureText(shown)),
            h('td', null, shown?.reason ?? ''),
            h('td', null, shown ? `${shown.set_by_name || staffName(shown.set_by)} · ${dateTime(shown.set_at)}` : ''),
          );
        }),
      ),
    );
    const history = listed.history.slice().reverse();
    const historyList = h(
      'details',
      { class: 'adjust-history', 'data-testid': 'adjust-history', open: history.length > 0 && history.length <= 10 },
      h('summary', null, t('adjust.history', { n: num(history.length) })),
      history.length === 0
        ? h('p', { class: 'muted' }, t('adjust.history.none'))
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'data' },
              h('thead', null, h('tr', null, th(t('adjust.history.when')), th(t('adjust.set_by')), th(t('common.month')), th(t('adjust.outcome')), th(t('adjust.history.from')), th(t('adjust.history.to')), th(t('adjust.reason')))),
              h(
                'tbody',
                null,
                history.map((a) =>
                  h(
                    'tr',
                    { 'data-testid': 'adjust-history-row' },
                    h('td', null, dateTime(a.set_at)),
                    h('td', null, a.set_by_name || staffName(a.set_by)),
                    h('td', null, month(a.month)),
                    h('td', null, a.outcome === ALL ? t('adjust.all_outcomes') : outcomeLabel(a.outcome)),
                    h('td', { class: 'num' }, a.has_previous ? num(a.previous_figure, 1) : '–'),
                    h('td', { class: 'num' }, a.cleared ? t('adjust.cleared') : num(a.figure, 1)),
                    h('td', null, a.reason),
                  ),
                ),
              ),
            ),
          ),
    );
    const editable = mayEdit && !asOf;
    if (editable) {
      if (!form) form = editForm();
      else (form as HTMLFormElement & { refresh?: () => void }).refresh?.();
    }
    body.replaceChildren(
      h('p', { class: 'muted' }, t('adjust.note')),
      h('div', { class: 'table-wrap' }, table),
      ...(editable && form ? [form] : asOf ? [h('p', { class: 'muted' }, t('adjust.historic'))] : []),
      historyList,
    );
  }

  return {
    element,
    render(calibrated, asOf) {
      element.hidden = calibrated === null;
      if (calibrated === null) {
        ++generation;
        return;
      }
      void load(calibrated, asOf);
    },
  };
}
