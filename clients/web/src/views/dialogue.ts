// The monthly dialogue between a team leader and a caseworker: what changed since the last one,
// the proposed agenda (cases needing attention, ranked, with reasons), agreements recorded on
// the cases as "agreed in dialogue", and notes in the frame status / knowledge / learning /
// adjustment. Earlier dialogues are listed below with their notes.
import { call, idempotencyKey } from '../api';
import { breadcrumbs, detailNote, errorBox, link, reasonBadges, th } from '../components';
import { caseTypeLabel, ctx, outcomeLabel, riskLabel, staffName, teamMembers, teamName } from '../context';
import { append, h, uid } from '../dom';
import { caseEditor, field, FormErrors, select } from '../forms';
import { date, month, today } from '../format';
import { plural, t, tCode } from '../i18n';
import type { View } from '../router';
import type { Case, Changes, Dialogue, DialogueAgenda, ListDialoguesResponse } from '../types';

/** A change's before/after value by its label, never a code: months as months, outcomes,
 *  risks, case types and caseworkers by name. */
function changeValue(kind: string, value: string): string {
  if (!value) return '–';
  if (/^\d{4}-\d{2}$/.test(value)) return month(value);
  if (kind.startsWith('RISK')) return riskLabel(value);
  if (kind === 'OUTCOME_CHANGED' || kind === 'CLOSED') return outcomeLabel(value);
  if (kind === 'NEW') return caseTypeLabel(value);
  if (kind.startsWith('REASSIGNED')) return staffName(value);
  if (kind === 'FIRST_EXPECTATION') {
    // "OUTCOME YYYY-MM RISK"
    const [outcome, when, risk] = value.split(' ');
    return [outcomeLabel(outcome), when ? month(when) : '', risk ? riskLabel(risk) : ''].filter(Boolean).join(', ');
  }
  return value;
}

export async function dialogueView(team: string, query: URLSearchParams): Promise<View> {
  const me = ctx().me;
  const members = teamMembers(team);
  const caseworker = query.get('caseworker') ?? members[0]?.code ?? '';
  const section = h('section', { class: 'view dialogue-view' });
  const pickerId = uid('cw');
  const picker = select('caseworker', members.map((s) => [s.code, s.display_name || s.code]), caseworker);
  picker.id = pickerId;
  picker.addEventListener('change', () => {
    history.pushState(null, '', `?caseworker=${encodeURIComponent(picker.value)}`);
    window.dispatchEvent(new PopStateEvent('popstate'));
  });
  append(section, [
    me.role === 'MANAGER' || me.role === 'ADMIN' ? breadcrumbs([[t('nav.teams'), '/teams'], [teamName(team), `/team/${encodeURIComponent(team)}`], [t('nav.dialogue')]]) : null,
    h('h1', null, t('dialogue.heading', { name: teamName(team) })),
    h('div', { class: 'toolbar' }, h('div', { class: 'field inline' }, h('label', { for: pickerId }, t('dialogue.caseworker')), picker)),
  ]);
  if (!caseworker) return { element: section };

  let agenda: DialogueAgenda;
  let changes: Changes;
  let dialogues: ListDialoguesResponse;
  try {
    [agenda, changes, dialogues] = await Promise.all([
      call<DialogueAgenda>('ForecastService', 'GetDialogueAgenda', { caseworker, limit: 15 }),
      call<Changes>('ForecastService', 'GetChangesSinceLastDialogue', { caseworker }),
      call<ListDialoguesResponse>('ForecastService', 'ListDialogues', { caseworker }),
    ]);
  } catch (error) {
    section.append(errorBox(error));
    return { element: section };
  }

  // Agreements made after the dialogue is saved are linked to it.
  let recorded: Dialogue | undefined;
  const discussed = new Set<string>();
  const editors = new Map<string, HTMLElement>();

  const agendaBody = h('tbody');
  const renderAgenda = () => {
    agendaBody.replaceChildren(
      ...agenda.items.flatMap((item) => {
        const checkId = uid('disc');
        const editorId = `agree-${item.case_ref}`;
        const rows = [
          h(
            'tr',
            { 'data-testid': `agenda-${item.case_ref}` },
            h('td', null, h('input', { type: 'checkbox', id: checkId, checked: discussed.has(item.case_ref), 'aria-label': t('dialogue.discuss.label', { ref: item.case_ref }), onchange: (e: Event) => ((e.target as HTMLInputElement).checked ? discussed.add(item.case_ref) : discussed.delete(item.case_ref)) })),
            h('td', null, link(`/case/${encodeURIComponent(item.case_ref)}`, item.case_ref)),
            h('td', null, caseTypeLabel(item.case_type)),
            h('td', null, item.expected_outcome ? `${outcomeLabel(item.expected_outcome)}, ${month(item.expected_month)}, ${riskLabel(item.risk)}` : t('case.no_expectation')),
            h('td', null, reasonBadges(item.reasons.length ? item.reasons : [item.reason]), item.detail ? detailNote(item.detail) : null),
            h(
              'td',
              null,
              h(
                'button',
                {
                  type: 'button',
                  class: 'secondary small',
                  'aria-expanded': editors.has(item.case_ref) ? 'true' : 'false',
                  'aria-controls': editorId,
                  onclick: async () => {
                    if (editors.has(item.case_ref)) {
                      editors.delete(item.case_ref);
                    } else {
                      try {
                        const c = await call<Case>('CaseService', 'GetCase', { case_ref: item.case_ref });
                        discussed.add(item.case_ref);
                        editors.set(item.case_ref, caseEditor(c, { agreedInDialogue: true, dialogueId: () => recorded?.id ?? '0' }));
                      } catch (error) {
                        editors.set(item.case_ref, errorBox(error));
                      }
                    }
                    renderAgenda();
                  },
                },
                t('dialogue.agree'),
              ),
            ),
          ),
        ];
        if (editors.has(item.case_ref)) rows.push(h('tr', { class: 'editor-row', id: editorId }, h('td', { colspan: 6 }, editors.get(item.case_ref)!)));
        return rows;
      }),
    );
  };
  renderAgenda();

  const noteFields = {
    held_on: field(t('dialogue.held_on'), h('input', { type: 'date', name: 'held_on', value: today() })),
    'notes.status': field(t('dialogue.notes.status'), h('textarea', { name: 'status', rows: 3 })),
    'notes.knowledge': field(t('dialogue.notes.knowledge'), h('textarea', { name: 'knowledge', rows: 3 })),
    'notes.learning': field(t('dialogue.notes.learning'), h('textarea', { name: 'learning', rows: 3 })),
    'notes.adjustment': field(t('dialogue.notes.adjustment'), h('textarea', { name: 'adjustment', rows: 3 })),
  };
  const errors = new FormErrors(noteFields);
  const submit = h('button', { type: 'submit' }, t('dialogue.record'));
  const key = idempotencyKey();
  const notesForm = h(
    'form',
    { class: 'card edit-form', 'aria-labelledby': 'notes-h', novalidate: true },
    h('h2', { id: 'notes-h' }, t('dialogue.notes')),
    errors.alert,
    noteFields.held_on.wrapper,
    h('div', { class: 'grid-2' }, noteFields['notes.status'].wrapper, noteFields['notes.knowledge'].wrapper, noteFields['notes.learning'].wrapper, noteFields['notes.adjustment'].wrapper),
    h('div', { class: 'form-actions' }, submit),
  );
  notesForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      recorded = await call<Dialogue>('ForecastService', 'RecordDialogue', {
        caseworker,
        held_on: noteFields.held_on.control.value,
        case_refs: [...discussed],
        notes: {
          status: noteFields['notes.status'].control.value,
          knowledge: noteFields['notes.knowledge'].control.value,
          learning: noteFields['notes.learning'].control.value,
          adjustment: noteFields['notes.adjustment'].control.value,
        },
        idempotency_key: key,
      });
      errors.success(t('dialogue.recorded'));
      section.querySelector('[data-testid="no-dialogues"]')?.remove();
      previous.prepend(dialogueItem(recorded));
    } catch (error) {
      errors.show(error);
    } finally {
      submit.disabled = false;
    }
  });

  const dialogueItem = (d: Dialogue) =>
    h(
      'li',
      { class: 'card' },
      h('h3', null, date(d.held_on), ' · ', staffName(d.team_leader)),
      d.case_refs.length ? h('p', null, t('dialogue.cases', { refs: d.case_refs.join(', ') })) : null,
      d.agreed_case_refs.length ? h('p', null, t('dialogue.agreed_cases', { refs: d.agreed_case_refs.join(', ') })) : null,
      d.notes
        ? h(
            'dl',
            { class: 'facts' },
            (['status', 'knowledge', 'learning', 'adjustment'] as const).flatMap((k) => (d.notes![k] ? [h('dt', null, t(`dialogue.notes.${k}`)), h('dd', null, d.notes![k])] : [])),
          )
        : null,
    );
  const previous = h('ol', { class: 'plain', 'data-testid': 'previous-dialogues' }, dialogues.dialogues.map(dialogueItem));

  section.append(
    h('p', { class: 'muted' }, agenda.last_dialogue_on ? t('dialogue.last', { date: date(agenda.last_dialogue_on) }) : t('dialogue.never')),
    h(
      'section',
      { class: 'card', 'data-testid': 'changes' },
      h('h2', null, t('dialogue.changes', { since: date(changes.since), until: date(changes.until) })),
      changes.counts.length === 0
        ? h('p', { class: 'muted' }, t('dialogue.changes.none'))
        : [
            h('ul', { class: 'chips' }, changes.counts.map((c) => h('li', { class: 'chip' }, `${tCode('change', c.key)}: ${c.count}`))),
            h(
              'details',
              null,
              h('summary', null, t('dialogue.changes.show', { what: plural(changes.changes.length, { da: 'den ene ændring', en: 'the one change' }, { da: `de ${changes.changes.length} ændringer`, en: `the ${changes.changes.length} changes` }) })),
              h(
                'table',
                { class: 'data' },
                h('thead', null, h('tr', null, th(t('case.ref')), th(t('case.status')), th(''))),
                h(
                  'tbody',
                  null,
                  changes.changes.map((c) =>
                    h(
                      'tr',
                      null,
                      h('td', null, link(`/case/${encodeURIComponent(c.case_ref)}`, c.case_ref)),
                      h('td', null, tCode('change', c.kind)),
                      h('td', null, c.before || c.after ? t('change.before_after', { before: changeValue(c.kind, c.before), after: changeValue(c.kind, c.after) }) : ''),
                    ),
                  ),
                ),
              ),
            ),
          ],
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', null, t('dialogue.agenda')),
      agenda.items.length === 0
        ? h('p', { class: 'muted' }, t('dialogue.agenda.none'))
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'data', 'data-testid': 'agenda' },
              h('thead', null, h('tr', null, th(t('dialogue.discuss')), th(t('case.ref')), th(t('case.type')), th(t('expectation.heading')), th(t('explain.reasons')), th(h('span', { class: 'visually-hidden' }, t('dialogue.agree'))))),
              agendaBody,
            ),
          ),
    ),
    notesForm,
    h('section', null, h('h2', null, t('dialogue.previous')), dialogues.dialogues.length === 0 ? h('p', { class: 'muted', 'data-testid': 'no-dialogues' }, t('dialogue.none')) : null, previous),
  );
  return { element: section };
}
