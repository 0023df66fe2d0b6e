// The administrator's screens: the job centre's catalogue (case types, outcomes with their groups,
// risk levels with their probabilities), its own typed fields, and (admin_org.ts) the organisation,
// staff, milestone metrics and the latest set-up changes. Every save goes through the case service
// (UpsertCatalogueEntry / UpsertCaseField / UpsertOrgUnit / UpsertStaff / UpsertMilestoneMetric),
// which checks and audits it; the answer replaces what every view uses (labels, names).
import { call } from '../api';
import { errorBox, th } from '../components';
import { ctx } from '../context';
import { h, replace } from '../dom';
import { field, FormErrors, keepSetUpDraft, select } from '../forms';
import { num, pct } from '../format';
import { label, t, type MessageKey } from '../i18n';
import type { View } from '../router';
import type { Catalogue, CatalogueEntry, CaseField } from '../types';
import { changesSection, editableRow, metricsSection, newFormDetails, organisationSection, staffSection } from './admin_org';

type Kind = 'CASE_TYPE' | 'OUTCOME' | 'RISK';

const KINDS: Array<[Kind, keyof Catalogue]> = [
  ['CASE_TYPE', 'case_types'],
  ['OUTCOME', 'outcomes'],
  ['RISK', 'risks'],
];

function yesNo(value: boolean): string {
  return value ? t('common.yes') : t('common.no');
}

/** Stores the fresh catalogue the service answered with, for every view. */
function adopt(catalogue: Catalogue): void {
  ctx().catalogue = catalogue;
}

const entryDraftKey = (kind: Kind, code?: string): string => `entry-form-${kind}-${code ?? 'new'}`;
const fieldDraftKey = (code?: string): string => `field-form-${code ?? 'new'}`;

function entryForm(kind: Kind, entry: CatalogueEntry | undefined, onSaved: () => void): HTMLFormElement {
  const fields = {
    'entry.code': field(t('admin.code'), h('input', { name: 'code', value: entry?.code ?? '', readonly: !!entry, autocapitalize: 'characters' }), t('admin.code.hint.upper')),
    'entry.label_da': field(t('admin.label_da'), h('input', { name: 'label_da', value: entry?.label_da ?? '', lang: 'da' })),
    'entry.label_en': field(t('admin.label_en'), h('input', { name: 'label_en', value: entry?.label_en ?? '', lang: 'en' })),
    'entry.sort_order': field(t('admin.sort_order'), h('input', { name: 'sort_order', type: 'number', value: String(entry?.sort_order ?? 0) })),
    'entry.outcome_group': field(t('admin.outcome_group'), h('input', { name: 'outcome_group', value: entry?.outcome_group ?? '' }), t('admin.outcome_group.hint')),
    'entry.probability': field(t('admin.probability'), h('input', { name: 'probability', type: 'number', step: '0.01', min: '0', max: '1', value: entry ? String(entry.probability) : '' }), t('admin.probability.hint')),
  };
  const activeBox = h('input', { type: 'checkbox', name: 'active', checked: entry ? entry.active : true, id: `active-${kind}-${entry?.code ?? 'new'}` });
  const errors = new FormErrors(fields);
  const submit = h('button', { type: 'submit' }, t('common.save'));
  const form = h(
    'form',
    { class: 'edit-form admin-form', novalidate: true, 'aria-label': entry ? t('admin.edit_entry', { code: label(entry, entry.code) }) : t(`admin.new.${kind}` as MessageKey) },
    errors.alert,
    h(
      'div',
      { class: 'field-row' },
      fields['entry.code'].wrapper,
      fields['entry.label_da'].wrapper,
      fields['entry.label_en'].wrapper,
      fields['entry.sort_order'].wrapper,
      kind === 'OUTCOME' ? fields['entry.outcome_group'].wrapper : null,
      kind === 'RISK' ? fields['entry.probability'].wrapper : null,
    ),
    h('div', { class: 'field-check' }, activeBox, h('label', { for: activeBox.id }, t('admin.active'))),
    h('div', { class: 'form-actions' }, submit),
  );
  const dropDraft = keepSetUpDraft(form, entryDraftKey(kind, entry?.code));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const catalogue = await call<Catalogue>('CaseService', 'UpsertCatalogueEntry', {
        entry: {
          kind,
          code: fields['entry.code'].control.value.trim(),
          label_da: fields['entry.label_da'].control.value,
          label_en: fields['entry.label_en'].control.value,
          sort_order: Number(fields['entry.sort_order'].control.value || 0),
          active: activeBox.checked,
          outcome_group: kind === 'OUTCOME' ? fields['entry.outcome_group'].control.value.trim() : '',
          probability: kind === 'RISK' ? Number(fields['entry.probability'].control.value.replace(',', '.') || 0) : 0,
        },
      });
      dropDraft();
      adopt(catalogue);
      onSaved();
    } catch (error) {
      errors.show(error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function fieldForm(existing: CaseField | undefined, onSaved: () => void): HTMLFormElement {
  const types: Array<[string, string]> = (['BOOL', 'NUMBER', 'CHOICE', 'DATE'] as const).map((k) => [k, t(`admin.field.type.${k}`)]);
  const fields = {
    'field.code': field(t('admin.code'), h('input', { name: 'code', value: existing?.code ?? '', readonly: !!existing }), t('admin.code.hint.lower')),
    'field.label_da': field(t('admin.label_da'), h('input', { name: 'label_da', value: existing?.label_da ?? '', lang: 'da' })),
    'field.label_en': field(t('admin.label_en'), h('input', { name: 'label_en', value: existing?.label_en ?? '', lang: 'en' })),
    'field.type': field(t('admin.field.type'), select('type', types, existing?.type ?? 'BOOL')),
    'field.choices': field(t('admin.field.choices'), h('input', { name: 'choices', value: existing?.choices.join('; ') ?? '' }), t('admin.field.choices.hint')),
    'field.sort_order': field(t('admin.sort_order'), h('input', { name: 'sort_order', type: 'number', value: String(existing?.sort_order ?? 0) })),
  };
  if (existing) (fields['field.type'].control as HTMLSelectElement).disabled = true;
  const activeBox = h('input', { type: 'checkbox', name: 'active', checked: existing ? existing.active : true, id: `active-field-${existing?.code ?? 'new'}` });
  const errors = new FormErrors(fields);
  const submit = h('button', { type: 'submit' }, t('common.save'));
  const form = h(
    'form',
    { class: 'edit-form admin-form', novalidate: true, 'aria-label': existing ? t('admin.edit_entry', { code: label(existing, existing.code) }) : t('admin.new.FIELD') },
    errors.alert,
    h('div', { class: 'field-row' }, Object.values(fields).map((f) => f.wrapper)),
    h('div', { class: 'field-check' }, activeBox, h('label', { for: activeBox.id }, t('admin.active'))),
    h('div', { class: 'form-actions' }, submit),
  );
  const dropDraft = keepSetUpDraft(form, fieldDraftKey(existing?.code));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    const type = fields['field.type'].control.value;
    try {
      const catalogue = await call<Catalogue>('CaseService', 'UpsertCaseField', {
        field: {
          code: fields['field.code'].control.value.trim(),
          label_da: fields['field.label_da'].control.value,
          label_en: fields['field.label_en'].control.value,
          type,
          choices: type === 'CHOICE' ? fields['field.choices'].control.value.split(';').map((c) => c.trim()).filter(Boolean) : [],
          sort_order: Number(fields['field.sort_order'].control.value || 0),
          active: activeBox.checked,
        },
      });
      dropDraft();
      adopt(catalogue);
      onSaved();
    } catch (error) {
      errors.show(error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export function adminView(): View {
  const section = h('section', { class: 'view admin-view' });
  // Loaded once per visit (their own calls); the catalogue and organisation re-render at once.
  const metrics = metricsSection();
  const render = () => {
    const catalogue = ctx().catalogue;
    replace(
      section,
      h('h1', null, t('admin.heading')),
      h('p', { class: 'muted' }, t('admin.intro')),
      KINDS.map(([kind, key]) => {
        const entries = [...(catalogue[key] as CatalogueEntry[])].sort((a, b) => a.sort_order - b.sort_order);
        return h(
          'section',
          { class: 'card', 'data-testid': `admin-${kind}` },
          h('h2', null, t(`admin.kind.${kind}` as MessageKey)),
          h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'data' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  th(t('admin.label')),
                  th(t('admin.code')),
                  kind === 'OUTCOME' ? th(t('admin.outcome_group')) : null,
                  kind === 'RISK' ? th(t('admin.probability')) : null,
                  th(t('admin.sort_order')),
                  th(t('admin.active')),
                  th(h('span', { class: 'visually-hidden' }, t('case.edit'))),
                ),
              ),
              h(
                'tbody',
                null,
                entries.flatMap((e) =>
                  editableRow(
                    [
                      h('td', null, label(e, e.code)),
                      h('td', null, h('code', null, e.code)),
                      kind === 'OUTCOME' ? h('td', null, h('code', null, e.outcome_group)) : null,
                      kind === 'RISK' ? h('td', { class: 'num' }, pct(e.probability)) : null,
                      h('td', { class: 'num' }, num(e.sort_order)),
                      h('td', null, yesNo(e.active)),
                    ].filter((c): c is HTMLTableCellElement => !!c),
                    `admin-row-${e.code}`,
                    label(e, e.code),
                    () => entryForm(kind, e, render),
                    entryDraftKey(kind, e.code),
                  ),
                ),
              ),
            ),
          ),
          newFormDetails(t(`admin.new.${kind}` as MessageKey), entryForm(kind, undefined, render)),
        );
      }),
      h(
        'section',
        { class: 'card', 'data-testid': 'admin-FIELDS' },
        h('h2', null, t('case.fields')),
        h('p', { class: 'muted' }, t('admin.fields.intro')),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'data' },
            h('thead', null, h('tr', null, th(t('admin.label')), th(t('admin.code')), th(t('admin.field.type')), th(t('admin.field.choices')), th(t('admin.active')), th(h('span', { class: 'visually-hidden' }, t('case.edit'))))),
            h(
              'tbody',
              null,
              [...catalogue.fields]
                .sort((a, b) => a.sort_order - b.sort_order)
                .flatMap((f) =>
                  editableRow(
                    [
                      h('td', null, label(f, f.code)),
                      h('td', null, h('code', null, f.code)),
                      h('td', null, t(`admin.field.type.${f.type === 'TYPE_UNSPECIFIED' ? 'BOOL' : f.type}` as MessageKey)),
                      h('td', null, f.choices.join(', ') || '–'),
                      h('td', null, yesNo(f.active)),
                    ],
                    `admin-row-${f.code}`,
                    label(f, f.code),
                    () => fieldForm(f, render),
                    fieldDraftKey(f.code),
                  ),
                ),
            ),
          ),
        ),
        newFormDetails(t('admin.new.FIELD'), fieldForm(undefined, render)),
      ),
      organisationSection(render),
      staffSection(render),
      metrics,
      changesSection(),
    );
  };
  try {
    render();
  } catch (error) {
    section.append(errorBox(error));
  }
  return { element: section };
}
