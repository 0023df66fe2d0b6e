// The domain's fixed codes (services/common/codes.h): every value has one stored text that parses
// back to it, and the texts are exactly those the database's CHECK constraints allow.
#include "services/common/codes.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "tests/support/test_database.h"

namespace forecast {
namespace {

template <typename E, typename Name, typename Parse>
std::set<std::string> RoundTrip(const std::vector<E>& values, Name name, Parse parse) {
  std::set<std::string> texts;
  for (E value : values) {
    const std::string text(name(value));
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(parse(text), value) << text;
    texts.insert(text);
  }
  EXPECT_EQ(texts.size(), values.size()) << "two values share a text";
  EXPECT_FALSE(parse("").has_value());
  EXPECT_FALSE(parse("closed").has_value());  // texts are exact, not case-folded
  return texts;
}

// The quoted words of the CHECK constraint on `table`.`column` (ARRAY['A'::text, 'B'::text]).
std::set<std::string> Allowed(pqxx::connection& conn, const std::string& table,
                              const std::string& column) {
  pqxx::nontransaction tx(conn);
  std::set<std::string> words;
  for (const auto& row : tx.exec_params(
           "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' "
           "AND conrelid = $1::regclass AND pg_get_constraintdef(oid) LIKE '%(' || $2 || ' = ANY%'",
           table, column)) {
    const std::string def = row[0].as<std::string>();
    for (size_t open = def.find('\''); open != std::string::npos;
         open = def.find('\'', def.find('\'', open + 1) + 1)) {
      const size_t close = def.find('\'', open + 1);
      words.insert(def.substr(open + 1, close - open - 1));
    }
  }
  return words;
}

TEST(CodesTest, EveryValueHasOneTextAndTheTextsAreWhatTheDatabaseAllows) {
  auto db = testing::TestDatabase::Create();
  ASSERT_TRUE(db.ok()) << db.status();
  pqxx::connection conn((*db)->conninfo());

  EXPECT_EQ(RoundTrip<Role>({Role::kCaseworker, Role::kTeamLeader, Role::kManager, Role::kAdmin},
                            RoleName, ParseRole),
            Allowed(conn, "staff", "role"));
  EXPECT_EQ(RoundTrip<v1::CaseStatus>({v1::OPEN, v1::CLOSED}, CaseStatusName, ParseCaseStatus),
            Allowed(conn, "cases", "status"));
  EXPECT_EQ(RoundTrip<StatusChange>({StatusChange::kClosed, StatusChange::kReopened},
                                    StatusChangeName, ParseStatusChange),
            Allowed(conn, "status_change", "status"));
  EXPECT_EQ(RoundTrip<v1::ActionStatus>({v1::ACTION_OPEN, v1::ACTION_DONE, v1::ACTION_NOT_DONE},
                                        ActionStatusName, ParseActionStatus),
            Allowed(conn, "action", "status"));
  EXPECT_EQ(RoundTrip<v1::FollowUpResult>(
                {v1::FOLLOW_UP_DONE, v1::FOLLOW_UP_NOT_DONE, v1::FOLLOW_UP_POSTPONED},
                FollowUpResultName, ParseFollowUpResult),
            Allowed(conn, "action_follow_up", "result"));
  EXPECT_EQ(RoundTrip<v1::OrgUnit::Kind>({v1::OrgUnit::DEPARTMENT, v1::OrgUnit::TEAM},
                                         OrgUnitKindName, ParseOrgUnitKind),
            Allowed(conn, "org_unit", "kind"));
  EXPECT_EQ(RoundTrip<DialogueState>({DialogueState::kDraft, DialogueState::kFinal},
                                     DialogueStateName, ParseDialogueState),
            Allowed(conn, "dialogue", "state"));
}

TEST(CodesTest, ProtoEnumsConvertThroughTheSameTable) {
  for (Role role : {Role::kCaseworker, Role::kTeamLeader, Role::kManager, Role::kAdmin}) {
    EXPECT_EQ(FromProto(ToProto(role)), role);
    EXPECT_EQ(v1::Role_Name(ToProto(role)), RoleName(role));
  }
  EXPECT_FALSE(FromProto(v1::ROLE_UNSPECIFIED).has_value());
  EXPECT_EQ(CaseStatusName(v1::CASE_STATUS_UNSPECIFIED), "");
  EXPECT_EQ(ActionStatusAfter(v1::FOLLOW_UP_POSTPONED), v1::ACTION_OPEN);
  EXPECT_EQ(ActionStatusAfter(v1::FOLLOW_UP_DONE), v1::ACTION_DONE);
  EXPECT_EQ(ActionStatusAfter(v1::FOLLOW_UP_NOT_DONE), v1::ACTION_NOT_DONE);
}

}  // namespace
}  // namespace forecast
