// A small hand-built job centre for the forecast service's tests, written with SQL in the shape
// the case service writes (current row + append-only history + case_event), every row recorded
// at noon UTC of its own day so that views as of any day are exact.
//
// Job centre JC1 (default catalogue; fields has_cv, in_internship, segment), department D1 with
// teams TA (caseworkers cw_a1, cw_a2, leader tl_a) and TB (cw_b1, leader tl_b), manager mgr.
// Job centre JC2 with team TX (cw_x1, tl_x). "Today" in the tests is 2099-03-16 (far ahead of any
// wall clock, so the case service's own writes, stamped by the database clock, are in the past).
//
// Cases of JC1 (all dates 2099 unless marked 2098):
//   A1 SDP  2098-10-01 cw_a1  has_cv; exp 2098-10-05 ORDINARY_JOB 01 LOW; action due 03-01 open
//   A2 JAF  2098-11-15 cw_a1  no expectation; in_internship true from 03-05
//   A3 SDP  2098-06-01 cw_a1  exp 2098-11-10 FLEX_JOB 06 HIGH; exp 03-12 ORDINARY_JOB 05 MEDIUM
//   A4 KHJ  01-10      cw_a2  has_cv; in_internship true 02-10; exp 03-01 EDUCATION 05 MEDIUM;
//                             exp 03-10 EDUCATION 07 HIGH
//   A5 SDP  2098-09-01 cw_a2  closed 02-20 DECLARED_FIT
//   A6 DP   2098-12-01 cw_a1  closed 03-10 ORDINARY_JOB
//   A7 SDP  2098-08-01 cw_a1  exp 02-01 SMALL_JOB 04 LOW; re-assigned to cw_b1 (TB) on 03-02
//   A8 KHA  02-01      cw_a1  exp 02-15 OTHER_BENEFIT 08 HIGH
//   A9 SDP  03-11      cw_a2  new, no expectation
//   B1 RF   2098-05-01 cw_b1  exp 03-12 DISABILITY_PENSION 09 MEDIUM
//   B2 SDP  03-03      cw_b1  closed 03-14 FLEX_JOB
// JC2: X1 SDP 2099-01-05 cw_x1.
#ifndef TESTS_FORECAST_SERVICE_SEED_CENTRE_H_
#define TESTS_FORECAST_SERVICE_SEED_CENTRE_H_

#include <cstdint>
#include <map>
#include <string>

#include <pqxx/pqxx>

namespace forecast::testing {

// Writes history rows for one job centre; every call is its own committed transaction, so each
// case_event NOTIFY reaches listeners as the case service's writes do.
class CentreWriter {
 public:
  CentreWriter(const std::string& conninfo, int64_t centre_id);

  int64_t centre_id() const { return centre_; }
  // Rows written from now on are recorded on `day` instead of their own day (a back-dated entry);
  // empty restores the default.
  void RecordOn(const std::string& day) { recorded_on_ = day; }
  // Rows written from now on are recorded by this staff member instead of the case's holder (the
  // new holder for a re-assignment); empty restores the default.
  void By(const std::string& staff) { by_ = staff; }
  int64_t Staff(const std::string& code);
  int64_t Unit(const std::string& code);
  int64_t Case(const std::string& ref);

  void AddCase(const std::string& ref, const std::string& type, const std::string& opened,
               const std::string& caseworker, const std::string& fields_json = "{}");
  void Expect(const std::string& ref, const std::string& day, const std::string& outcome,
              const std::string& month, const std::string& risk, int64_t dialogue_id = 0);
  void Close(const std::string& ref, const std::string& day, const std::string& outcome);
  void Reassign(const std::string& ref, const std::string& day, const std::string& caseworker);
  void SetField(const std::string& ref, const std::string& day, const std::string& code,
                const std::string& json);
  void AddAction(const std::string& ref, const std::string& created, const std::string& due);

 private:
  // Bumps the case's version and appends its case_event, in `tx`.
  void Event(pqxx::work& tx, int64_t case_id, const std::string& kind, const std::string& day);
  // Announces the change on commit, as the case service does after its own (ChangeAnnouncer).
  void Announce(pqxx::work& tx, int64_t case_id, int64_t version, const std::string& kind);

  // Noon UTC of the recording day: `day`, unless RecordOn said otherwise.
  std::string Stamp(const std::string& day) const;

  pqxx::connection conn_;
  int64_t centre_;
  std::string recorded_on_;
  std::string by_;
};

struct SeededCentres {
  int64_t jc1 = 0;
  int64_t jc2 = 0;
};

// Creates JC1 and JC2 as described above.
SeededCentres SeedCentres(const std::string& conninfo);

}  // namespace forecast::testing

#endif  // TESTS_FORECAST_SERVICE_SEED_CENTRE_H_
