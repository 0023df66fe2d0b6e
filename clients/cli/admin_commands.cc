// The administrator's catalogue and field commands: the same as the web app's /admin screens,
// through the case service (UpsertCatalogueEntry / UpsertCaseField), which checks and audits them.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "clients/cli/command_support.h"
#include "clients/cli/commands.h"

namespace forecast::cli {
namespace {

void PrintCatalogue(const CommandEnv& env, const v1::Catalogue& catalogue) {
  std::vector<std::vector<std::string>> rows = {
      {"kind", "code", "label_da", "label_en", "order", "active", "group/probability"}};
  auto add = [&](const google::protobuf::RepeatedPtrField<v1::CatalogueEntry>& entries) {
    for (const v1::CatalogueEntry& e : entries) {
      rows.push_back({v1::CatalogueEntry::Kind_Name(e.kind()), e.code(), e.label_da(), e.label_en(),
                      absl::StrCat(e.sort_order()), e.active() ? "yes" : "no",
                      e.kind() == v1::CatalogueEntry::RISK
                          ? absl::StrFormat("%.2f", e.probability())
                          : e.outcome_group()});
    }
  };
  add(catalogue.case_types());
  add(catalogue.outcomes());
  add(catalogue.risks());
  for (const v1::CaseField& f : catalogue.fields()) {
    rows.push_back(
        {"FIELD", f.code(), f.label_da(), f.label_en(), absl::StrCat(f.sort_order()),
         f.active() ? "yes" : "no",
         absl::StrCat(
             v1::CaseField::Type_Name(f.type()),
             f.choices().empty() ? "" : absl::StrCat(": ", absl::StrJoin(f.choices(), "; ")))});
  }
  PrintTable(*env.out, rows);
}

}  // namespace

int ShowCatalogue(const CommandEnv& env) {
  auto stub = CaseStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::Catalogue catalogue;
  grpc::Status status = stub->GetCatalogue(&context, v1::GetCatalogueRequest(), &catalogue);
  if (!status.ok()) return Fail(env, status);
  PrintCatalogue(env, catalogue);
  return 0;
}

int SetCatalogueEntry(const CommandEnv& env, const CatalogueEntryInput& in) {
  v1::CatalogueEntry::Kind kind;
  if (!v1::CatalogueEntry::Kind_Parse(in.kind, &kind) ||
      kind == v1::CatalogueEntry::KIND_UNSPECIFIED) {
    *env.err << "forecastctl: --kind: \"" << in.kind << "\" is not CASE_TYPE, OUTCOME or RISK\n";
    return 2;
  }
  v1::UpsertCatalogueEntryRequest request;
  v1::CatalogueEntry* e = request.mutable_entry();
  e->set_kind(kind);
  e->set_code(in.code);
  e->set_label_da(in.label_da);
  e->set_label_en(in.label_en);
  e->set_sort_order(in.sort_order);
  e->set_active(!in.inactive);
  e->set_outcome_group(in.outcome_group);
  e->set_probability(in.probability);
  auto stub = CaseStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::Catalogue catalogue;
  grpc::Status status = stub->UpsertCatalogueEntry(&context, request, &catalogue);
  if (!status.ok()) return Fail(env, status);
  *env.out << "saved " << in.kind << " " << in.code << "\n";
  return 0;
}

int SetCaseField(const CommandEnv& env, const CaseFieldInput& in) {
  v1::CaseField::Type type;
  if (!v1::CaseField::Type_Parse(in.type, &type) || type == v1::CaseField::TYPE_UNSPECIFIED) {
    *env.err << "forecastctl: --type: \"" << in.type << "\" is not BOOL, NUMBER, CHOICE or DATE\n";
    return 2;
  }
  v1::UpsertCaseFieldRequest request;
  v1::CaseField* f = request.mutable_field();
  f->set_code(in.code);
  f->set_label_da(in.label_da);
  f->set_label_en(in.label_en);
  f->set_type(type);
  f->set_sort_order(in.sort_order);
  f->set_active(!in.inactive);
  for (absl::string_view choice : absl::StrSplit(in.choices, ';', absl::SkipWhitespace())) {
    f->add_choices(std::string(absl::StripAsciiWhitespace(choice)));
  }
  auto stub = CaseStub(env);
  grpc::ClientContext context;
  PrepareContext(&context, env.identity, kCallTimeout);
  v1::Catalogue catalogue;
  grpc::Status status = stub->UpsertCaseField(&context, request, &catalogue);
  if (!status.ok()) return Fail(env, status);
  *env.out << "saved field " << in.code << "\n";
  return 0;
}

}  // namespace forecast::cli
