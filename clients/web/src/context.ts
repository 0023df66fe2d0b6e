// What every view needs about the logged-in user and the job centre: who is calling, the
// catalogue (labels of case types, outcomes, risks and fields) and the organisation.
import { call } from './api';
import { label } from './i18n';
import type { Catalogue, CatalogueEntry, Organisation, StaffMember } from './types';

export interface AppContext {
  me: StaffMember;
  catalogue: Catalogue;
  organisation: Organisation;
}

let context: AppContext | undefined;

export async function loadContext(me: StaffMember): Promise<AppContext> {
  const [catalogue, organisation] = await Promise.all([
    call<Catalogue>('CaseService', 'GetCatalogue'),
    call<Organisation>('CaseService', 'GetOrganisation'),
  ]);
  context = { me, catalogue, organisation };
  return context;
}

export function ctx(): AppContext {
  if (!context) throw new Error('not logged in');
  return context;
}

export function clearContext(): void {
  context = undefined;
}

function find(entries: CatalogueEntry[], code: string): CatalogueEntry | undefined {
  return entries.find((e) => e.code === code);
}

export function outcomeLabel(code: string): string {
  return code ? label(find(ctx().catalogue.outcomes, code), code) : '–';
}
export function caseTypeLabel(code: string): string {
  return label(find(ctx().catalogue.case_types, code), code);
}
export function riskLabel(code: string): string {
  return code ? label(find(ctx().catalogue.risks, code), code) : '–';
}
export function fieldLabel(code: string): string {
  const field = ctx().catalogue.fields.find((f) => f.code === code);
  return label(field, code);
}

/** A staff member's display name, else the code. */
export function staffName(code: string): string {
  const staff = ctx().organisation.staff.find((s) => s.code === code);
  return staff?.display_name || code;
}

export function teamName(code: string): string {
  return ctx().organisation.units.find((u) => u.code === code)?.name || code;
}

export function teamMembers(team: string) {
  return ctx()
    .organisation.staff.filter((s) => s.team === team && s.role === 'CASEWORKER' && s.active)
    .sort((a, b) => (a.display_name || a.code).localeCompare(b.display_name || b.code));
}

/** Active catalogue entries in their configured order. */
export function active(entries: CatalogueEntry[]): CatalogueEntry[] {
  return entries.filter((e) => e.active).sort((a, b) => a.sort_order - b.sort_order);
}
