// The monthly dialogue between a team leader and a caseworker, in the order of a real meeting:
// what became of last time's agreements, what changed since, the agenda (cases needing
// attention, ranked, with reasons) where expectations and actions are agreed, then the notes in
// the frame status / knowledge / learning / adjustment.
//
// The dialogue exists from the moment the leader opens it (a DRAFT, or by agreeing on a case):
// every agreement names it. Notes are saved as versions, each with its own idempotency key and
// the version it was based on (a concurrent edit is shown beside the stored one, never silently
// overwritten); the leader finalises it, which locks it. After every save the page is read again.
import { ApiError, call, idempotencyKey } from '../api';
import { breadcrumbs, detailNote, errorBox, link, reasonBadges, th } from '../components';
import { caseTypeLabel, ctx, outcomeLabel, riskLabel, staffName, teamMembers, teamName } from '../context';
import { append, h, uid } from '../dom';
import { caseEditor, field, FormErrors, select } from '../forms';
import { date, dateTime, month, num, signed, today } from '../format';
import { plural, t, tCode } from '../i18n';
import type { View } from '../router';
import type { AgreementFollowUp, Case, Dialogue, DialogueAgenda, DialogueNotes, ListDialoguesResponse, PipelineInspection } from '../types';
import { caseworkerTargets } from './milestones';
import { changedCasesTable, inspectPipeline } from './pipeline';

const NOTE_KEYS = ['status', 'knowledge', 'learning', 'adjustment'] as const;

/** One dialogue: state, who and when, cases, notes and every earlier version of the notes. */
export function dialogueItem(d: Dialogue): HTMLElement {
  const final = d.state !== 'DRAFT';
  const versions = d.versions ?? [];
  return h(
    'li',
    { class: 'card dialogue-item', 'data-testid': `dialogue-${d.id}` },
    h(
      'h3',
      null,
      date(d.held_on),
      ' · ',
      staffName(d.team_leader),
      ' ',
      h('span', { class: final ? 'badge ok' : 'badge', 'data-testid': 'dialogue-state' }, final ? t('dialogue.state.final') : t('dialogue.state.draft')),
    ),
    final && d.finalised_at ? h('p', { class: 'muted', 'data-testid': 'finalised' }, t('dialogue.finalised_at', { when: dateTime(d.finalised_at), who: staffName(d.finalised_by ?? '') })) : null,
    d.case_refs.length ? h('p', null, t('dialogue.cases', { refs: d.case_refs.join(', ') })) : null,
    d.agreed_case_refs.length ? h('p', { 'data-testid': 'agreed-cases' }, t('dialogue.agreed_cases', { refs: d.agreed_case_refs.join(', ') })) : null,
    d.notes ? h('dl', { class: 'facts', 'data-testid': 'notes' }, NOTE_KEYS.flatMap((k) => (d.notes![k] ? [h('dt', null, t(`dialogue.notes.${k}`)), h('dd', null, d.notes![k])] : []))) : null,
    versions.length > 1
      ? h(
          'details',
          { class: 'no-print', 'data-testid': 'versions' },
          h('summary', null, t('dialogue.versions', { n: versions.length })),
          h(
            'ol',
            { class: 'plain' },
            versions
              .slice()
              .reverse()
              .map((v) =>
                h(
                  'li',
                  { 'data-testid': `version-${v.version}` },
                  h('p', { class: 'muted' }, t('dialogue.version', { n: v.version, when: dateTime(v.recorded_at), who: staffName(v.recorded_by) })),
                  h('dl', { class: 'facts' }, NOTE_KEYS.flatMap((k) => (v.notes?.[k] ? [h('dt', null, t(`dialogue.notes.${k}`)), h('dd', null, v.notes[k])] : []))),
                ),
              ),
          ),
        )
      : null,
  );
}

/** Last time's agreements and, for each, whether the agreed action was done and whether the
 *  expectation held. */
export function agreementsCard(agenda: DialogueAgenda): HTMLElement | null {
  const items: AgreementFollowUp[] = agenda.previous_agreements ?? [];
  if (!agenda.last_dialogue_on) return null;
  return h(
    'section',
    { class: 'card', 'data-testid': 'previous-agreements' },
    h('h2', null, t('dialogue.previous_agreements', { date: date(agenda.last_dialogue_on) })),
    items.length === 0
      ? h('p', { class: 'muted' }, t('dialogue.previous_agreements.none'))
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'data' },
            h('thead', null, h('tr', null, th(t('case.ref')), th(t('dialogue.agreed')), th(t('dialogue.action_done')), th(t('dialogue.expectation_held')), th(t('dialogue.now')))),
            h(
              'tbody',
              null,
              items.map((a) =>
                h(
                  'tr',
                  { 'data-testid': `agreement-${a.case_ref}` },
                  h('td', null, link(`/case/${encodeURIComponent(a.case_ref)}`, a.case_ref)),
                  h('td', null, `${outcomeLabel(a.agreed_outcome)}, ${month(a.agreed_month)}, ${riskLabel(a.agreed_risk)}`),
                  h('td', { 'data-testid': 'action' }, h('span', { class: `badge followup-${a.action.toLowerCase()}` }, tCode('followup.action', a.action))),
                  h('td', { 'data-testid': 'expectation' }, h('span', { class: `badge followup-${a.expectation.toLowerCase()}` }, tCode('followup.expectation', a.expectation))),
                  h('td', null, a.current_outcome ? `${outcomeLabel(a.current_outcome)}, ${month(a.current_month)}` : '–'),
                ),
              ),
            ),
          ),
        ),
  );
}

/** What changed in the caseworker's cases since the last finalised dialogue (else since the end
 *  of the previous month): kinds counted, each changed case with who changed what as labels and
 *  names, the change in the next 3 months' expected closures, and a link to the whole
 *  inspection with its waterfalls. */
function changesCard(team: string, caseworker: string, inspection: PipelineInspection): HTMLElement {
  const counts = inspection.counts ?? [];
  const cases = inspection.cases ?? [];
  const w = inspection.next_3_months;
  const heading = inspection.since_basis === 'LAST_DIALOGUE' ? 'dialogue.changes' : 'dialogue.changes.month';
  const since = inspection.since_basis === 'REQUEST' ? `&since=${inspection.since}` : '';
  return h(
    'section',
    { class: 'card', 'data-testid': 'changes' },
    h('h2', null, t(heading, { since: date(inspection.since), until: date(inspection.until) })),
    w ? h('p', { 'data-testid': 'changes-figure' }, t('dialogue.changes.figure', { before: num(w.before, 1), after: num(w.after, 1), diff: signed(w.after - w.before) })) : null,
    counts.length === 0
      ? h('p', { class: 'muted' }, t('dialogue.changes.none'))
      : [
          h('ul', { class: 'chips' }, counts.map((c) => h('li', { class: 'chip' }, `${tCode('change', c.key)}: ${num(c.count)}`))),
          h(
            'details',
            null,
            h('summary', null, t('dialogue.changes.show', { what: plural(cases.length, { da: 'den ene ændrede sag', en: 'the one changed case' }, { da: `de ${cases.length} ændrede sager`, en: `the ${cases.length} changed cases` }) })),
            changedCasesTable(inspection, { caseworkerColumn: false, testId: 'changes-table' }),
          ),
        ],
    h('p', { class: 'no-print' }, link(`/team/${encodeURIComponent(team)}/pipeline?caseworker=${encodeURIComponent(caseworker)}${since}`, t('dialogue.changes.more'), { 'data-testid': 'changes-more' })),
  );
}

export async function dialogueView(team: string, query: URLSearchParams): Promise<View> {
  const me = ctx().me;
  const members = teamMembers(team);
  const caseworker = query.get('caseworker') ?? members[0]?.code ?? '';
  const canWrite = me.role === 'MANAGER' || (me.role === 'TEAM_LEADER' && me.team === team);
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
    h(
      'div',
      { class: 'toolbar no-print' },
      h('div', { class: 'field inline' }, h('label', { for: pickerId }, t('dialogue.caseworker')), picker),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'print-agenda', onclick: () => window.print() }, t('dialogue.print')),
    ),
    h('p', { class: 'print-only' }, t('dialogue.print.heading', { name: staffName(caseworker), date: date(today()) })),
  ]);
  if (!caseworker) return { element: section };
  const body = h('div');
  section.append(body);

  /** Reads everything again and redraws: the page is fresh after every save. */
  const load = async (flash?: string): Promise<void> => {
    let agenda: DialogueAgenda;
    // The changes are a part of the page, not its condition: a refusal shows in their card.
    let changes: PipelineInspection | Error;
    let dialogues: ListDialoguesResponse;
    try {
      [agenda, changes, dialogues] = await Promise.all([
        call<DialogueAgenda>('ForecastService', 'GetDialogueAgenda', { caseworker, limit: 15 }),
        inspectPipeline({ caseworker }).catch((error: Error) => error),
        call<ListDialoguesResponse>('ForecastService', 'ListDialogues', { caseworker }),
      ]);
    } catch (error) {
      body.replaceChildren(errorBox(error, () => void load()));
      return;
    }
    let draft: Dialogue | undefined = dialogues.dialogues.find((d) => d.state === 'DRAFT');
    const finished = dialogues.dialogues.filter((d) => d.state !== 'DRAFT').reverse();

    /** Opens the dialogue (or returns the open draft): agreements need it. */
    const ensureDraft = async (): Promise<Dialogue> => {
      if (draft) return draft;
      draft = await call<Dialogue>('ForecastService', 'OpenDialogue', { caseworker });
      renderNotes();
      return draft;
    };

    const discussed = new Set<string>(draft?.case_refs ?? []);
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
              h('td', null, h('input', { type: 'checkbox', id: checkId, checked: discussed.has(item.case_ref), disabled: !canWrite, 'aria-label': t('dialogue.discuss.label', { ref: item.case_ref }), onchange: (e: Event) => ((e.target as HTMLInputElement).checked ? discussed.add(item.case_ref) : discussed.delete(item.case_ref)) })),
              h('td', null, link(`/case/${encodeURIComponent(item.case_ref)}`, item.case_ref)),
              h('td', null, caseTypeLabel(item.case_type)),
              h('td', null, item.expected_outcome ? `${outcomeLabel(item.expected_outcome)}, ${month(item.expected_month)}, ${riskLabel(item.risk)}` : t('case.no_expectation')),
              h('td', null, reasonBadges(item.reasons.length ? item.reasons : [item.reason]), item.detail ? detailNote(item.detail) : null),
              h(
                'td',
                { class: 'no-print' },
                canWrite
                  ? h(
                      'button',
                      {
                        type: 'button',
                        class: 'secondary small',
                        'data-testid': `agree-${item.case_ref}`,
                        'aria-expanded': editors.has(item.case_ref) ? 'true' : 'false',
                        'aria-controls': editorId,
                        onclick: async () => {
                          if (editors.has(item.case_ref)) {
                            editors.delete(item.case_ref);
                          } else {
                            try {
                              const open = await ensureDraft();
                              const c = await call<Case>('CaseService', 'GetCase', { case_ref: item.case_ref });
                              discussed.add(item.case_ref);
                              editors.set(item.case_ref, caseEditor(c, { agreedInDialogue: true, dialogueId: () => String(open.id) }));
                            } catch (error) {
                              editors.set(item.case_ref, errorBox(error));
                            }
                          }
                          renderAgenda();
                        },
                      },
                      t('dialogue.agree'),
                    )
                  : null,
              ),
            ),
          ];
          if (editors.has(item.case_ref)) rows.push(h('tr', { class: 'editor-row no-print', id: editorId }, h('td', { colspan: 6 }, editors.get(item.case_ref)!)));
          return rows;
        }),
      );
    };
    renderAgenda();

    const notesArea = h('div', { class: 'no-print', 'data-testid': 'notes-area' });
    const renderNotes = (message?: string): void => {
      if (!canWrite) {
        notesArea.replaceChildren();
        return;
      }
      if (!draft) {
        notesArea.replaceChildren(
          h(
            'section',
            { class: 'card' },
            h('h2', null, t('dialogue.notes')),
            h('p', { class: 'muted' }, t('dialogue.not_open')),
            h(
              'button',
              {
                type: 'button',
                'data-testid': 'open-dialogue',
                onclick: async (e: Event) => {
                  (e.target as HTMLButtonElement).disabled = true;
                  try {
                    await ensureDraft();
                  } catch (error) {
                    notesArea.append(errorBox(error));
                  }
                },
              },
              t('dialogue.open'),
            ),
          ),
        );
        return;
      }
      const d = draft;
      const noteFields = {
        held_on: field(t('dialogue.held_on'), h('input', { type: 'date', name: 'held_on', value: d.held_on || today() })),
        'notes.status': field(t('dialogue.notes.status'), h('textarea', { name: 'status', rows: 3, value: d.notes?.status ?? '' })),
        'notes.knowledge': field(t('dialogue.notes.knowledge'), h('textarea', { name: 'knowledge', rows: 3, value: d.notes?.knowledge ?? '' })),
        'notes.learning': field(t('dialogue.notes.learning'), h('textarea', { name: 'learning', rows: 3, value: d.notes?.learning ?? '' })),
        'notes.adjustment': field(t('dialogue.notes.adjustment'), h('textarea', { name: 'adjustment', rows: 3, value: d.notes?.adjustment ?? '' })),
      };
      const errors = new FormErrors(noteFields);
      // Discussed or agreed in this draft: each can be taken off again while it is a draft.
      const onList = [...new Set([...(d.case_refs ?? []), ...(d.agreed_case_refs ?? [])])].sort();
      const submit = h('button', { type: 'submit', 'data-testid': 'save-notes' }, t('dialogue.record'));
      const finalise = h('button', { type: 'button', class: 'secondary', 'data-testid': 'finalise' }, t('dialogue.finalise'));
      // One key per save: a retry of the same save (same text, same base) reuses it, a new save
      // gets a new one.
      let key = idempotencyKey();
      let keyFor = '';
      const mine = (): DialogueNotes => ({
        status: noteFields['notes.status'].control.value,
        knowledge: noteFields['notes.knowledge'].control.value,
        learning: noteFields['notes.learning'].control.value,
        adjustment: noteFields['notes.adjustment'].control.value,
      });
      // Cases taken off the draft's lists: unticked in the agenda, or removed below (issue 11).
      const save = async (base: number, remove: string[] = []): Promise<void> => {
        const notes = mine();
        const unticked = (d.case_refs ?? []).filter((ref) => !discussed.has(ref));
        const request = {
          id: d.id,
          base_version: base,
          held_on: noteFields.held_on.control.value,
          case_refs: [...discussed],
          remove_case_refs: [...new Set([...unticked, ...remove])],
          notes,
        };
        const fingerprint = JSON.stringify(request);
        if (fingerprint !== keyFor) {
          key = idempotencyKey();
          keyFor = fingerprint;
        }
        submit.disabled = true;
        try {
          await call<Dialogue>('ForecastService', 'SaveDialogueNotes', { ...request, idempotency_key: key });
          await load(t('dialogue.recorded'));
        } catch (error) {
          if (error instanceof ApiError && error.code === 'ABORTED') {
            // Someone else saved meanwhile: their text beside mine, to choose.
            const fresh = await call<ListDialoguesResponse>('ForecastService', 'ListDialogues', { caseworker }).catch(() => undefined);
            const stored = fresh?.dialogues.find((x) => x.id === d.id);
            if (stored && stored.state === 'DRAFT') {
              errors.conflict(
                NOTE_KEYS.map((k) => [t(`dialogue.notes.${k}`), notes[k], stored.notes?.[k] ?? '']),
                () => void save(stored.version ?? 0),
                () => void load(),
              );
              return;
            }
          }
          errors.show(error, () => void load());
        } finally {
          submit.disabled = false;
        }
      };
      const form = h(
        'form',
        { class: 'card edit-form', 'aria-labelledby': 'notes-h', novalidate: true, 'data-testid': 'notes-form' },
        h('h2', { id: 'notes-h' }, t('dialogue.notes'), ' ', h('span', { class: 'badge', 'data-testid': 'draft-state' }, t('dialogue.state.draft_version', { n: d.version ?? 0 }))),
        errors.alert,
        noteFields.held_on.wrapper,
        h('div', { class: 'grid-2' }, noteFields['notes.status'].wrapper, noteFields['notes.knowledge'].wrapper, noteFields['notes.learning'].wrapper, noteFields['notes.adjustment'].wrapper),
        onList.length
          ? h(
              'div',
              { 'data-testid': 'draft-cases' },
              h('h3', null, t('dialogue.draft_cases')),
              h(
                'ul',
                { class: 'plain' },
                onList.map((ref) =>
                  h(
                    'li',
                    null,
                    link(`/case/${encodeURIComponent(ref)}`, ref),
                    (d.agreed_case_refs ?? []).includes(ref) ? ` · ${t('dialogue.agreed').toLowerCase()}` : '',
                    ' ',
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'secondary small',
                        'data-testid': `remove-${ref}`,
                        onclick: () => {
                          if (!window.confirm(t('dialogue.remove.confirm', { ref }))) return;
                          discussed.delete(ref);
                          void save(d.version ?? 0, [ref]);
                        },
                      },
                      t('dialogue.remove'),
                    ),
                  ),
                ),
              ),
            )
          : null,
        h('div', { class: 'form-actions' }, submit, finalise),
      );
      if (message) errors.success(message);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        void save(d.version ?? 0);
      });
      finalise.addEventListener('click', async () => {
        if (JSON.stringify(mine()) !== JSON.stringify({ status: d.notes?.status ?? '', knowledge: d.notes?.knowledge ?? '', learning: d.notes?.learning ?? '', adjustment: d.notes?.adjustment ?? '' })) {
          errors.clear();
          errors.alert.className = 'form-alert alert alert-error';
          errors.alert.append(h('p', { 'data-testid': 'unsaved' }, t('dialogue.finalise.unsaved')));
          return;
        }
        if (!window.confirm(t('dialogue.finalise.confirm'))) return;
        finalise.disabled = true;
        try {
          await call<Dialogue>('ForecastService', 'FinaliseDialogue', { id: d.id, base_version: d.version ?? 0 });
          await load(t('dialogue.finalised'));
        } catch (error) {
          errors.show(error, () => void load());
          finalise.disabled = false;
        }
      });
      notesArea.replaceChildren(form);
    };
    renderNotes(flash && draft ? flash : undefined);

    const previous = h('ol', { class: 'plain', 'data-testid': 'previous-dialogues' }, finished.map(dialogueItem));
    let targets: HTMLElement | null = null;
    try {
      targets = await caseworkerTargets(team, caseworker);
    } catch {
      targets = null;
    }
    body.replaceChildren(
      ...[
        flash && !draft ? h('div', { class: 'alert alert-ok', role: 'status', 'data-testid': 'flash' }, h('p', null, flash)) : null,
        h('p', { class: 'muted', 'data-testid': 'dialogue-status' }, draft ? t('dialogue.open_since', { date: date(draft.held_on) }) : agenda.last_dialogue_on ? t('dialogue.last', { date: date(agenda.last_dialogue_on) }) : t('dialogue.never')),
        agreementsCard(agenda),
        targets,
        changes instanceof Error
          ? h('section', { class: 'card', 'data-testid': 'changes' }, h('h2', null, t('nav.pipeline')), errorBox(changes, () => void load()))
          : changesCard(team, caseworker, changes),
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
                  h('thead', null, h('tr', null, th(t('dialogue.discuss')), th(t('case.ref')), th(t('case.type')), th(t('expectation.heading')), th(t('explain.reasons')), th(h('span', { class: 'visually-hidden' }, t('dialogue.agree')), { class: 'no-print' }))),
                  agendaBody,
                ),
              ),
        ),
        notesArea,
        h('section', { class: 'no-print' }, h('h2', null, t('dialogue.previous')), finished.length === 0 ? h('p', { class: 'muted', 'data-testid': 'no-dialogues' }, t('dialogue.none')) : null, previous),
      ].filter((x): x is HTMLElement => x !== null),
    );
  };
  await load();
  return { element: section };
}

/** The caseworker's own dialogues: last time's agreements and how they went, own targets, and
 *  every dialogue with its notes (read only). */
export async function myDialoguesView(): Promise<View> {
  const me = ctx().me;
  const section = h('section', { class: 'view dialogue-view' }, h('h1', null, t('dialogue.mine.heading')));
  try {
    const [agenda, dialogues] = await Promise.all([
      call<DialogueAgenda>('ForecastService', 'GetDialogueAgenda', { caseworker: me.code, limit: 1 }),
      call<ListDialoguesResponse>('ForecastService', 'ListDialogues', {}),
    ]);
    const list = dialogues.dialogues.slice().reverse();
    append(section, [
      agreementsCard(agenda),
      h('section', null, h('h2', null, t('dialogue.mine.list')), list.length === 0 ? h('p', { class: 'muted', 'data-testid': 'no-dialogues' }, t('dialogue.none')) : h('ol', { class: 'plain', 'data-testid': 'my-dialogues' }, list.map(dialogueItem))),
    ]);
  } catch (error) {
    section.append(errorBox(error));
  }
  return { element: section };
}
