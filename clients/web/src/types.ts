// The forecast.v1 messages as the gateway prints them (Protobuf's JSON mapping): field names as
// in the .proto files, enums by name, int64 as decimal strings, every primitive field present.
// Only the fields the web app reads are listed.

export type Int64 = string;
export type Role = 'CASEWORKER' | 'TEAM_LEADER' | 'MANAGER' | 'ADMIN' | 'ROLE_UNSPECIFIED';
export type ModelName = 'AS_PLANNED' | 'CALIBRATED' | 'BASELINE' | 'ADJUSTED';

export interface StaffMember {
  code: string;
  display_name: string;
  role: Role;
  team: string;
  job_centre: string;
  active: boolean;
}

export interface OrgUnit {
  code: string;
  name: string;
  kind: 'DEPARTMENT' | 'TEAM' | 'KIND_UNSPECIFIED';
  parent: string;
}

export interface Organisation {
  job_centre: string;
  job_centre_name: string;
  units: OrgUnit[];
  staff: StaffMember[];
}

export interface CatalogueEntry {
  kind: string;
  code: string;
  label_da: string;
  label_en: string;
  sort_order: number;
  active: boolean;
  outcome_group: string;
  probability: number;
}

export interface CaseField {
  code: string;
  label_da: string;
  label_en: string;
  type: 'BOOL' | 'NUMBER' | 'CHOICE' | 'DATE' | 'TYPE_UNSPECIFIED';
  choices: string[];
  sort_order: number;
  active: boolean;
}

export interface Catalogue {
  case_types: CatalogueEntry[];
  outcomes: CatalogueEntry[];
  risks: CatalogueEntry[];
  fields: CaseField[];
}

export interface Expectation {
  id: Int64;
  expected_outcome: string;
  expected_month: string;
  risk: string;
  agreed_in_dialogue: boolean;
  dialogue_id: Int64;
  note: string;
  recorded_by: string;
  recorded_at: string;
}

export interface FollowUp {
  result: string;
  postponed_to: string;
  note: string;
  recorded_by: string;
  recorded_at: string;
}

export interface Action {
  id: Int64;
  description: string;
  owner: string;
  due_on: string;
  status: 'ACTION_OPEN' | 'ACTION_DONE' | 'ACTION_NOT_DONE' | 'ACTION_STATUS_UNSPECIFIED';
  overdue: boolean;
  follow_ups: FollowUp[];
  created_by: string;
  created_at: string;
  agreed_in_dialogue: boolean;
}

export interface FieldValue {
  bool_value?: boolean;
  number_value?: number;
  choice_value?: string;
  date_value?: string;
}

export interface Case {
  case_ref: string;
  case_type: string;
  opened_on: string;
  caseworker: string;
  team: string;
  status: 'OPEN' | 'CLOSED' | 'CASE_STATUS_UNSPECIFIED';
  closed_on: string;
  closure_outcome: string;
  version: Int64;
  expectation?: Expectation;
  open_actions: Action[]; // at most 50, soonest due first
  fields: Record<string, FieldValue>;
  updated_at: string;
  open_action_count?: number; // all open actions (ListCaseActions pages the rest)
  open_actions_page_token?: string;
}

export interface ListCaseActionsResponse {
  case_ref: string;
  actions?: Action[];
  next_page_token?: string;
  total?: number;
}

export interface ListCasesResponse {
  cases: Case[];
  next_page_token: string;
}

export interface CaseEvent {
  id: Int64;
  case_version: Int64;
  kind: string;
  actor: string;
  recorded_at: string;
  effective_on: string;
  summary_json: string;
}

// One page of a case's history (newest rows first across pages, oldest first within one).
export interface CaseHistory {
  current: Case;
  events: CaseEvent[];
  expectations: Expectation[];
  actions: Action[];
  next_page_token?: string;
  event_count: number;
  expectation_count: number;
  action_count: number;
}

export interface Estimate {
  expected: number;
  p10: number;
  p90: number;
}

export interface Explanation {
  method: string;
  method_key: string;
  n: Int64;
  small_sample: boolean;
}

export interface OutcomeMonth {
  month: string;
  outcome: string;
  closures: Estimate;
}

export interface CaseloadMonth {
  month: string;
  open: Estimate;
  inflow: Estimate;
}

export interface ModelAccuracy {
  model: ModelName;
  mean_abs_error: number;
  interval_coverage: number;
  brier_score: number;
  n_months: Int64;
  n_cases: Int64;
  /** ADJUSTED: the compared months that used an adjustment. */
  n_adjusted_months?: Int64;
}

export interface Projection {
  model: ModelName;
  as_of: string;
  open_cases: Int64;
  closures: OutcomeMonth[];
  caseload: CaseloadMonth[];
  explanation?: Explanation;
  accuracy?: ModelAccuracy;
  compute_ms: number;
  /** A team's adjustments in force on as_of (unfiltered team projections only). */
  adjustments?: ForecastAdjustment[];
  /** Today's cases' closures by the end of the 3rd and 12th month (unset below that horizon). */
  closures_next_3_months?: Estimate;
  closures_next_12_months?: Estimate;
  /** The same closures by forecast category: SAFE, LIKELY, POSSIBLE. */
  categories?: CategoryForecast[];
}

export type ForecastCategoryName = 'SAFE' | 'LIKELY' | 'POSSIBLE';

export interface CategoryForecast {
  category: ForecastCategoryName;
  /** The catalogue's risk codes in the category. */
  risks: string[];
  open_cases: Int64;
  months: Array<{ month: string; closures: Estimate }>;
  closures_next_3_months?: Estimate;
  closures_next_12_months?: Estimate;
}

/** One row of a team's forecast adjustments (append-only; the latest of a month and outcome is
 *  in force). */
export interface ForecastAdjustment {
  team: string;
  month: string;
  outcome: string;
  version: number;
  cleared: boolean;
  figure: number;
  has_previous: boolean;
  previous_figure: number;
  reason: string;
  set_by: string;
  set_by_name: string;
  set_at: string;
}

export interface ForecastAdjustments {
  team: string;
  as_of: string;
  current: ForecastAdjustment[];
  history: ForecastAdjustment[];
}

export interface AdjustedMonth {
  month: string;
  origin: string;
  calibrated: number;
  adjusted: number;
  actual: number;
  set_at: string;
}

export interface TeamProjectionSummary {
  team: string;
  team_name: string;
  open_cases: Int64;
  closures_next_3_months?: Estimate;
  caseload_at_horizon?: Estimate;
  closures: OutcomeMonth[];
  explanation?: Explanation;
}

export interface TeamComparison {
  teams: TeamProjectionSummary[];
  model?: ModelName;
}

export interface Count {
  key: string;
  count: Int64;
}

export interface CaseAttention {
  case_ref: string;
  caseworker: string;
  reason: string;
  detail: string;
  score: number;
  reasons: string[];
  case_type: string;
  expected_outcome: string;
  expected_month: string;
  risk: string;
}

export interface CaseworkerDashboard {
  closures_model?: ModelName;
  caseworker: string;
  as_of: string;
  open_cases: Int64;
  by_case_type: Count[];
  by_field: Count[];
  by_expected_outcome: Count[];
  no_expectation: Int64;
  stale_expectation: Int64;
  overdue_actions: Int64;
  passed_horizon: Int64;
  expected_closures_next_3_months: OutcomeMonth[];
  attention: CaseAttention[];
  revision: Int64;
  explanation?: Explanation;
}

export interface CaseworkerRow {
  caseworker: string;
  display_name: string;
  open_cases: Int64;
  no_expectation: Int64;
  stale_expectation: Int64;
  overdue_actions: Int64;
  passed_horizon: Int64;
  closures_next_3_months?: Estimate;
  mean_slip_months: number;
}

export interface OutcomeShare {
  caseworker: string;
  outcome: string;
  n: Int64;
  count: Int64;
  share: number;
  low: number;
  high: number;
  team_share: number;
  flagged: boolean;
  small_sample: boolean;
  /** The share the caseworker's own case mix leads one to expect (the team's share per case type). */
  expected_share: number;
  /** Flagged when case type is ignored; with flagged false, the case mix explains the difference. */
  flagged_without_case_type: boolean;
}

export interface VariationCase {
  case_ref: string;
  case_type: string;
  expected_outcome: string;
  expected_month: string;
  risk: string;
  horizon_passed: boolean;
  agreed_in_dialogue: boolean;
}

export interface VariationCases {
  team: string;
  caseworker: string;
  outcome: string;
  as_of: string;
  n: Int64;
  cases: VariationCase[];
}

export type TrendStep = 'MONTH_END' | 'WEEK';

export interface TrendMonth {
  month: string;
  closures: Estimate;
  closed_so_far: Int64;
}

export interface TrendPoint {
  as_of: string;
  open_cases: Int64;
  months: TrendMonth[];
}

export interface ProjectedVsActual {
  month: string;
  projected_on: string;
  projected?: Estimate;
  actual: Int64;
  complete: boolean;
}

export interface Trend {
  model: ModelName;
  as_of: string;
  step: TrendStep;
  months: string[];
  points: TrendPoint[];
  past_months: ProjectedVsActual[];
  explanation?: Explanation;
  compute_ms: number;
}

export interface Variation {
  team: string;
  shares: OutcomeShare[];
  explanation?: Explanation;
}

export interface TeamDashboard {
  closures_model?: ModelName;
  team: string;
  team_name: string;
  as_of: string;
  rows: CaseworkerRow[];
  totals?: CaseworkerRow;
  variation?: Variation;
  accuracy: ModelAccuracy[];
  revision: Int64;
  computed_at: string;
}

export interface Accuracy {
  models: ModelAccuracy[];
  explanation?: Explanation;
  /** Team scope: the months the ADJUSTED series took from an adjustment. */
  adjusted_months?: AdjustedMonth[];
}

export interface CaseOutcomeMonth {
  month: string;
  outcome: string;
  probability: number;
}

export interface CaseExplanation {
  case_ref: string;
  model: ModelName;
  probabilities: CaseOutcomeMonth[];
  still_open_at_horizon: number;
  reasons: string[];
  /** The same reasons as data (code and parameters), phrased by the client. */
  reason_details?: ExplanationReason[];
}

export interface ExplanationReason {
  code: string;
  params?: Record<string, string>;
}

export interface MilestoneRow {
  metric: string;
  metric_label_da: string;
  metric_label_en: string;
  month: string;
  target: number;
  actual: number;
  projected?: Estimate;
  on_track: boolean;
  gap: number;
  has_target: boolean;
  kind: string;
  higher_is_better: boolean;
  explanation?: Explanation;
  field_missing?: boolean;
}

export interface Milestones {
  team: string;
  caseworker: string;
  rows: MilestoneRow[];
  as_of: string;
}

export interface MilestoneMetric {
  code: string;
  label_da: string;
  label_en: string;
  kind: string;
  outcome_group: string;
  field_code: string;
  choice: string;
  higher_is_better: boolean;
}

export interface MilestoneMetrics {
  metrics: MilestoneMetric[];
}

export interface DialogueNotes {
  status: string;
  knowledge: string;
  learning: string;
  adjustment: string;
}

export interface Dialogue {
  id: Int64;
  team: string;
  team_leader: string;
  caseworker: string;
  held_on: string;
  case_refs: string[];
  notes?: DialogueNotes;
  recorded_at: string;
  agreed_case_refs: string[];
  state?: 'DRAFT' | 'FINAL';
  version?: number;
  finalised_at?: string;
  finalised_by?: string;
  versions?: DialogueNotesVersion[];
}

export interface DialogueNotesVersion {
  version: number;
  held_on: string;
  notes?: DialogueNotes;
  recorded_by: string;
  recorded_at: string;
}

export interface AgreementFollowUp {
  case_ref: string;
  agreed_outcome: string;
  agreed_month: string;
  agreed_risk: string;
  action: string;
  expectation: string;
  current_outcome: string;
  current_month: string;
  caseworker: string;
}

export interface ListDialoguesResponse {
  dialogues: Dialogue[];
}

export interface DialogueAgenda {
  caseworker: string;
  items: CaseAttention[];
  as_of: string;
  last_dialogue_on: string;
  previous_agreements?: AgreementFollowUp[];
  previous_dialogue_id?: Int64;
}

export interface CaseChange {
  case_ref: string;
  kind: string;
  before: string;
  after: string;
  caseworker: string;
}

export interface Changes {
  since: string;
  until: string;
  counts: Count[];
  changes: CaseChange[];
}

/** ForecastService.InspectPipeline (issue 11): what changed since a day, and its effect. */
export interface ExpectationCodes {
  outcome: string;
  month: string;
  risk: string;
}

export interface PipelineChange {
  kind: string;
  before: string;
  after: string;
  months: number;
  changed_by: string;
  changed_by_name: string;
  changed_on: string;
}

export interface PipelineCase {
  case_ref: string;
  case_type: string;
  caseworker: string;
  caseworker_name: string;
  cause: string;
  changes: PipelineChange[];
  expectation_before?: ExpectationCodes;
  expectation_after?: ExpectationCodes;
  closure_outcome: string;
  closures_3_before: number;
  closures_3_after: number;
  closures_12_before: number;
  closures_12_after: number;
  effect_3: number;
  effect_12: number;
}

export interface WaterfallStep {
  cause: string;
  closures: number;
  cases: Int64;
}

export interface Waterfall {
  months: number;
  before_first_month: string;
  before_last_month: string;
  after_first_month: string;
  after_last_month: string;
  before: number;
  after: number;
  steps: WaterfallStep[];
}

export interface PipelineInspection {
  team: string;
  caseworker: string;
  since: string;
  until: string;
  since_basis: 'REQUEST' | 'LAST_DIALOGUE' | 'MONTH_START';
  model: ModelName;
  next_3_months?: Waterfall;
  next_12_months?: Waterfall;
  counts: Count[];
  cases: PipelineCase[];
}
