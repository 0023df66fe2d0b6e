#include "services/identity/identity_keeper.h"

#include <sodium.h>

#include <algorithm>
#include <iostream>
#include <limits>
#include <optional>
#include <vector>

#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "forecast/v1/common.pb.h"
#include "google/rpc/error_details.pb.h"
#include "services/identity/password.h"

namespace forecast::identity {
namespace {

constexpr char kRetryInfoUrl[] = "type.googleapis.com/google.rpc.RetryInfo";
constexpr int kMaxCodeLength = 64;

// Timestamps travel to PostgreSQL as RFC 3339 text with microseconds and come back as epoch
// microseconds, so that nothing depends on the session's time zone.
std::string Ts(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}
std::string Micros(const std::string& column) {
  return absl::StrCat("(extract(epoch FROM ", column, ") * 1000000)::bigint");
}
std::optional<absl::Time> TimeOf(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return absl::FromUnixMicros(field.as<int64_t>());
}

absl::Status Refused() { return absl::UnauthenticatedError(kSignInRefused); }

absl::Status Throttled(absl::Duration wait, bool locked) {
  const int64_t seconds =
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))));
  absl::Status status = absl::ResourceExhaustedError(
      locked ? absl::StrCat("too many failed sign-ins: locked; try again in ", seconds, " s")
             : absl::StrCat("too many failed sign-ins: try again in ", seconds, " s"));
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(seconds);
  status.SetPayload(kRetryInfoUrl, absl::Cord(retry.SerializeAsString()));
  return status;
}

v1::Role RoleOf(const std::string& name) {
  return ToProto(ParseRole(name).value_or(Role::kCaseworker));
}

// A staff member as sign-in needs them.
struct Account {
  int64_t staff_id = 0;
  int64_t job_centre_id = 0;
  bool active = false;
  std::string password_hash;  // empty: no credential
};

std::optional<Account> FindAccount(pqxx::transaction_base& tx, const std::string& job_centre,
                                   const std::string& staff) {
  pqxx::result rows = tx.exec_params(
      "SELECT s.id, j.id, s.active, coalesce(c.password_hash, '') FROM job_centre j "
      "JOIN staff s ON s.job_centre_id = j.id LEFT JOIN credential c ON c.staff_id = s.id "
      "WHERE j.code = $1 AND s.code = $2",
      job_centre, staff);
  if (rows.empty()) return std::nullopt;
  Account account;
  account.staff_id = rows[0][0].as<int64_t>();
  account.job_centre_id = rows[0][1].as<int64_t>();
  account.active = rows[0][2].as<bool>();
  account.password_hash = rows[0][3].as<std::string>();
  return account;
}

std::optional<int64_t> JobCentreId(pqxx::transaction_base& tx, const std::string& code) {
  pqxx::result rows = tx.exec_params("SELECT id FROM job_centre WHERE code = $1", code);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<int64_t>();
}

void RecordEvent(pqxx::transaction_base& tx, absl::Time at, std::optional<int64_t> job_centre_id,
                 std::optional<int64_t> staff_id, const std::string& kind,
                 const std::string& client_address, const std::string& detail) {
  tx.exec_params0(
      "INSERT INTO auth_event (at, job_centre_id, staff_id, kind, client_address, detail) "
      "VALUES ($1::timestamptz, $2, $3, $4, $5, $6)",
      Ts(at), job_centre_id, staff_id, kind, client_address.substr(0, 128), detail);
}

// The throttle keys of one attempt, locked for the rest of the transaction (in key order, so
// that concurrent attempts never deadlock). Attempts on the same account or from the same
// address therefore run one after the other.
struct Throttles {
  std::string account_key, address_key;
  ThrottleState account, address;
};

ThrottleState ReadState(const pqxx::row& row) {
  ThrottleState state;
  state.failures = row[1].as<int>();
  state.last_failure_at = TimeOf(row[2]);
  state.blocked_until = TimeOf(row[3]);
  state.locked = row[4].as<bool>();
  return state;
}

Throttles LockThrottles(pqxx::transaction_base& tx, const std::string& job_centre,
                        const std::string& staff, const std::string& client_address) {
  Throttles t;
  t.account_key = absl::StrCat("account:", job_centre, "/", staff);
  t.address_key = absl::StrCat("address:", client_address);
  tx.exec_params0("INSERT INTO login_throttle (key) VALUES ($1), ($2) ON CONFLICT DO NOTHING",
                  t.account_key, t.address_key);
  pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT key, failures, ", Micros("last_failure_at"), ", ",
                   Micros("blocked_until"),
                   ", locked FROM login_throttle WHERE key IN ($1, $2) ORDER BY key FOR UPDATE"),
      t.account_key, t.address_key);
  for (const pqxx::row& row : rows) {
    const std::string key = row[0].as<std::string>();
    if (key == t.account_key) t.account = ReadState(row);
    if (key == t.address_key) t.address = ReadState(row);
  }
  return t;
}

void WriteState(pqxx::transaction_base& tx, const std::string& key, const ThrottleState& state) {
  tx.exec_params0(
      "UPDATE login_throttle SET failures = $2, last_failure_at = $3::timestamptz, "
      "blocked_until = $4::timestamptz, locked = $5 WHERE key = $1",
      key, state.failures,
      state.last_failure_at ? std::optional<std::string>(Ts(*state.last_failure_at)) : std::nullopt,
      state.blocked_until ? std::optional<std::string>(Ts(*state.blocked_until)) : std::nullopt,
      state.locked);
}

// RESOURCE_EXHAUSTED when either key must still wait; OK otherwise.
absl::Status CheckThrottles(const Throttles& t, absl::Time now) {
  const absl::Duration account_wait = WaitBeforeAttempt(t.account, now);
  const absl::Duration address_wait = WaitBeforeAttempt(t.address, now);
  if (account_wait <= absl::ZeroDuration() && address_wait <= absl::ZeroDuration())
    return absl::OkStatus();
  const bool account_longer = account_wait >= address_wait;
  return Throttled(account_longer ? account_wait : address_wait,
                   account_longer ? t.account.locked : t.address.locked);
}

// Counts a failure on both keys and records it (and a lockout, when one starts).
void CountFailure(pqxx::transaction_base& tx, Throttles& t, const IdentityOptions& options,
                  absl::Time now, std::optional<int64_t> job_centre_id,
                  std::optional<int64_t> staff_id, const std::string& client_address,
                  const std::string& detail) {
  bool account_locked = false, address_locked = false;
  t.account = AfterFailure(t.account, options.account, now, &account_locked);
  t.address = AfterFailure(t.address, options.address, now, &address_locked);
  WriteState(tx, t.account_key, t.account);
  WriteState(tx, t.address_key, t.address);
  RecordEvent(tx, now, job_centre_id, staff_id, "LOGIN_FAILED", client_address, detail);
  if (account_locked) {
    RecordEvent(tx, now, job_centre_id, staff_id, "LOCKED_OUT", client_address,
                absl::StrCat("account locked for ", absl::FormatDuration(options.account.lockout),
                             " after ", t.account.failures, " failures"));
  }
  if (address_locked) {
    RecordEvent(
        tx, now, job_centre_id, staff_id, "LOCKED_OUT", client_address,
        absl::StrCat("client address locked for ", absl::FormatDuration(options.address.lockout),
                     " after ", t.address.failures, " failures"));
  }
}

bool SameHash(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool PlausibleCode(const std::string& code) {
  return !code.empty() && code.size() <= kMaxCodeLength;
}

// A set-up code people can type: 16 characters from an alphabet without look-alikes, in groups of
// four (80 random bits).
std::string NewSetupCode() {
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";  // 32 characters
  unsigned char random[16];
  randombytes_buf(random, sizeof(random));
  std::string code;
  for (int i = 0; i < 16; ++i) {
    if (i > 0 && i % 4 == 0) code.push_back('-');
    code.push_back(kAlphabet[random[i] % 32]);
  }
  return code;
}

// Codes are compared without dashes, spaces or case.
std::string NormaliseSetupCode(const std::string& code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
  }
  return out;
}

}  // namespace

IdentityKeeper::IdentityKeeper(PgPool& pool, const Clock& clock, const AccessTokenSigner& signer,
                               IdentityOptions options)
    : pool_(pool), clock_(clock), signer_(signer), options_(std::move(options)) {
  if (sodium_init() < 0) std::abort();
}

absl::StatusOr<v1::LoginResponse> IdentityKeeper::OpenSession(int64_t staff_id,
                                                              const std::string& method,
                                                              const std::string& event_kind,
                                                              const std::string& client_address) {
  const absl::Time now = clock_.Now();
  const std::string session_token = RandomToken(32);
  return RunTransaction<v1::LoginResponse>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::LoginResponse> {
        pqxx::result staff = tx.exec_params(
            "SELECT s.code, s.display_name, s.role, coalesce(u.code, ''), s.active, j.code, j.id "
            "FROM staff s JOIN job_centre j ON j.id = s.job_centre_id "
            "LEFT JOIN org_unit u ON u.id = s.team_id WHERE s.id = $1",
            staff_id);
        if (staff.empty() || !staff[0][4].as<bool>()) return Refused();
        const pqxx::row row = staff[0];
        const absl::Time expires = now + options_.session_lifetime;
        const int64_t session_id =
            tx.exec_params1(
                  "INSERT INTO session (token_hash, staff_id, method, client_address, created_at, last_used_at, "
                  "expires_at) VALUES ($1, $2, $3, $4, $5::timestamptz, $5::timestamptz, $6::timestamptz) "
                  "RETURNING id",
                  Sha256Hex(session_token), staff_id, method, client_address.substr(0, 128),
                  Ts(now), Ts(expires))[0]
                .as<int64_t>();
        RecordEvent(tx, now, row[6].as<int64_t>(), staff_id, event_kind, client_address,
                    absl::StrCat("session ", session_id));
        v1::LoginResponse response;
        AccessClaims claims{
            options_.issuer,
            options_.audience,
            row[0].as<std::string>(),
            row[5].as<std::string>(),
            session_id,
            absl::FromUnixSeconds(absl::ToUnixSeconds(now)),
            absl::FromUnixSeconds(absl::ToUnixSeconds(now + options_.access_token_lifetime)),
            RandomToken(12)};
        response.set_access_token(signer_.Sign(claims));
        response.set_access_expires_at(FormatTimestamp(claims.expires_at));
        response.set_session_token(session_token);
        response.set_session_expires_at(FormatTimestamp(expires));
        v1::StaffMember* member = response.mutable_staff();
        member->set_code(row[0].as<std::string>());
        member->set_display_name(row[1].as<std::string>());
        member->set_role(RoleOf(row[2].as<std::string>()));
        member->set_team(row[3].as<std::string>());
        member->set_job_centre(row[5].as<std::string>());
        member->set_active(true);
        return response;
      });
}

absl::StatusOr<v1::LoginResponse> IdentityKeeper::Login(const v1::LoginRequest& request,
                                                        const std::string& client_address) {
  if (!PlausibleCode(request.job_centre()) || !PlausibleCode(request.staff()) ||
      request.password().empty() ||
      request.password().size() > static_cast<size_t>(kMaxPasswordBytes)) {
    return Refused();
  }
  const absl::Time now = clock_.Now();
  // The outcome is decided (and failures committed) in one transaction; the session opens after.
  struct Outcome {
    absl::Status status;
    int64_t staff_id = 0;
  };
  absl::StatusOr<Outcome> outcome = RunTransaction<Outcome>(
      pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::StatusOr<Outcome> {
        Throttles throttles =
            LockThrottles(tx, request.job_centre(), request.staff(), client_address);
        if (absl::Status wait = CheckThrottles(throttles, now); !wait.ok()) return Outcome{wait, 0};
        std::optional<Account> account = FindAccount(tx, request.job_centre(), request.staff());
        const bool usable = account && account->active && !account->password_hash.empty();
        // Unknown accounts cost the same hashing time as known ones.
        const bool matches =
            VerifyPassword(request.password(),
                           usable ? account->password_hash : DecoyHash(options_.password_cost));
        if (!usable || !matches) {
          const std::optional<int64_t> centre = account
                                                    ? std::optional<int64_t>(account->job_centre_id)
                                                    : JobCentreId(tx, request.job_centre());
          const char* why = !account                         ? "unknown staff code"
                            : !account->active               ? "inactive staff member"
                            : account->password_hash.empty() ? "no password set"
                                                             : "wrong password";
          CountFailure(tx, throttles, options_, now, centre,
                       account ? std::optional<int64_t>(account->staff_id) : std::nullopt,
                       client_address, why);
          return Outcome{Refused(), 0};
        }
        tx.exec_params0("DELETE FROM login_throttle WHERE key = $1", throttles.account_key);
        if (NeedsRehash(account->password_hash, options_.password_cost)) {
          // Stored at another cost (an older default, or the operator changed it): the same
          // password at today's cost. Not a password change, so changed_at stays.
          absl::StatusOr<std::string> rehashed =
              HashPassword(request.password(), options_.password_cost);
          if (rehashed.ok()) {
            tx.exec_params0(
                "UPDATE credential SET password_hash = $2 WHERE staff_id = $1 AND password_hash = $3",
                account->staff_id, *rehashed, account->password_hash);
          }
        }
        return Outcome{absl::OkStatus(), account->staff_id};
      });
  if (!outcome.ok()) return outcome.status();
  if (!outcome->status.ok()) return outcome->status;
  return OpenSession(outcome->staff_id, "PASSWORD", "LOGIN", client_address);
}

absl::StatusOr<v1::LoginResponse> IdentityKeeper::RefreshSession(
    const v1::RefreshSessionRequest& request) {
  const absl::Status ended =
      absl::UnauthenticatedError("the session has ended or expired: sign in again");
  if (request.session_token().empty() || request.session_token().size() > 256) return ended;
  const absl::Time now = clock_.Now();
  return RunTransaction<v1::LoginResponse>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::LoginResponse> {
        pqxx::result rows = tx.exec_params(
            absl::StrCat(
                "SELECT se.id, ", Micros("se.last_used_at"), ", ", Micros("se.expires_at"),
                ", s.code, s.display_name, s.role, coalesce(u.code, ''), s.active, j.code "
                "FROM session se JOIN staff s ON s.id = se.staff_id "
                "JOIN job_centre j ON j.id = s.job_centre_id LEFT JOIN org_unit u ON u.id = s.team_id "
                "WHERE se.token_hash = $1 AND se.ended_at IS NULL FOR UPDATE OF se"),
            Sha256Hex(request.session_token()));
        if (rows.empty()) return ended;
        const pqxx::row row = rows[0];
        const absl::Time last_used = *TimeOf(row[1]);
        const absl::Time expires = *TimeOf(row[2]);
        if (now >= expires || now - last_used >= options_.session_idle_timeout ||
            !row[7].as<bool>())
          return ended;
        const int64_t session_id = row[0].as<int64_t>();
        tx.exec_params0("UPDATE session SET last_used_at = $2::timestamptz WHERE id = $1",
                        session_id, Ts(now));
        AccessClaims claims{options_.issuer,
                            options_.audience,
                            row[3].as<std::string>(),
                            row[8].as<std::string>(),
                            session_id,
                            absl::FromUnixSeconds(absl::ToUnixSeconds(now)),
                            absl::FromUnixSeconds(absl::ToUnixSeconds(
                                std::min(now + options_.access_token_lifetime, expires))),
                            RandomToken(12)};
        v1::LoginResponse response;
        response.set_access_token(signer_.Sign(claims));
        response.set_access_expires_at(FormatTimestamp(claims.expires_at));
        response.set_session_expires_at(FormatTimestamp(expires));
        v1::StaffMember* member = response.mutable_staff();
        member->set_code(row[3].as<std::string>());
        member->set_display_name(row[4].as<std::string>());
        member->set_role(RoleOf(row[5].as<std::string>()));
        member->set_team(row[6].as<std::string>());
        member->set_job_centre(row[8].as<std::string>());
        member->set_active(true);
        return response;
      });
}

absl::StatusOr<v1::LogoutResponse> IdentityKeeper::Logout(const v1::LogoutRequest& request,
                                                          const std::string& client_address) {
  v1::LogoutResponse response;
  if (request.session_token().empty() || request.session_token().size() > 256) return response;
  const absl::Time now = clock_.Now();
  return RunTransaction<v1::LogoutResponse>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::LogoutResponse> {
        pqxx::result ended = tx.exec_params(
            "UPDATE session se SET ended_at = $2::timestamptz FROM staff s "
            "WHERE se.token_hash = $1 AND se.ended_at IS NULL AND s.id = se.staff_id "
            "RETURNING se.id, s.id, s.job_centre_id",
            Sha256Hex(request.session_token()), Ts(now));
        v1::LogoutResponse answer;
        answer.set_sessions_ended(static_cast<int32_t>(ended.size()));
        for (const pqxx::row& row : ended) {
          RecordEvent(tx, now, row[2].as<int64_t>(), row[1].as<int64_t>(), "LOGOUT", client_address,
                      absl::StrCat("session ", row[0].as<int64_t>()));
        }
        return answer;
      });
}

absl::StatusOr<v1::LogoutResponse> IdentityKeeper::LogoutEverywhere(
    const Caller& caller, const std::string& client_address) {
  const absl::Time now = clock_.Now();
  return RunTransaction<v1::LogoutResponse>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::LogoutResponse> {
        pqxx::result ended = tx.exec_params(
            "UPDATE session SET ended_at = $2::timestamptz WHERE staff_id = $1 AND ended_at IS NULL RETURNING id",
            caller.staff_id, Ts(now));
        v1::LogoutResponse answer;
        answer.set_sessions_ended(static_cast<int32_t>(ended.size()));
        RecordEvent(tx, now, caller.job_centre_id, caller.staff_id, "LOGOUT", client_address,
                    absl::StrCat("everywhere: ", ended.size(), " session(s)"));
        return answer;
      });
}

absl::StatusOr<v1::LoginResponse> IdentityKeeper::RedeemSetupCode(
    const v1::RedeemSetupCodeRequest& request, const std::string& client_address) {
  if (absl::Status policy =
          CheckPasswordPolicy(request.new_password(), request.staff(), "new_password");
      !policy.ok()) {
    return policy;
  }
  const absl::Status refused =
      absl::UnauthenticatedError("unknown job centre or staff code, or wrong set-up code");
  if (!PlausibleCode(request.job_centre()) || !PlausibleCode(request.staff()) ||
      request.setup_code().empty() || request.setup_code().size() > 64) {
    return refused;
  }
  absl::StatusOr<std::string> new_hash =
      HashPassword(request.new_password(), options_.password_cost);
  if (!new_hash.ok()) return new_hash.status();
  const absl::Time now = clock_.Now();
  struct Outcome {
    absl::Status status;
    int64_t staff_id = 0;
  };
  absl::StatusOr<Outcome> outcome = RunTransaction<Outcome>(
      pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::StatusOr<Outcome> {
        Throttles throttles =
            LockThrottles(tx, request.job_centre(), request.staff(), client_address);
        if (absl::Status wait = CheckThrottles(throttles, now); !wait.ok()) return Outcome{wait, 0};
        std::optional<Account> account = FindAccount(tx, request.job_centre(), request.staff());
        bool good = false;
        if (account && account->active) {
          pqxx::result code =
              tx.exec_params(absl::StrCat("SELECT code_hash, ", Micros("expires_at"),
                                          " FROM setup_code WHERE staff_id = $1 FOR UPDATE"),
                             account->staff_id);
          good = !code.empty() &&
                 SameHash(code[0][0].as<std::string>(),
                          Sha256Hex(NormaliseSetupCode(request.setup_code()))) &&
                 now < *TimeOf(code[0][1]);
        }
        if (!good) {
          const std::optional<int64_t> centre = account
                                                    ? std::optional<int64_t>(account->job_centre_id)
                                                    : JobCentreId(tx, request.job_centre());
          CountFailure(tx, throttles, options_, now, centre,
                       account ? std::optional<int64_t>(account->staff_id) : std::nullopt,
                       client_address, "wrong, used or expired set-up code");
          return Outcome{refused, 0};
        }
        tx.exec_params0("DELETE FROM setup_code WHERE staff_id = $1", account->staff_id);
        tx.exec_params0(
            "INSERT INTO credential (staff_id, password_hash, changed_at) VALUES ($1, $2, $3::timestamptz) "
            "ON CONFLICT (staff_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, changed_at = EXCLUDED.changed_at",
            account->staff_id, *new_hash, Ts(now));
        tx.exec_params0(
            "UPDATE session SET ended_at = $2::timestamptz WHERE staff_id = $1 AND ended_at IS NULL",
            account->staff_id, Ts(now));
        tx.exec_params0("DELETE FROM login_throttle WHERE key = $1", throttles.account_key);
        RecordEvent(tx, now, account->job_centre_id, account->staff_id, "PASSWORD_CHANGED",
                    client_address, "set from a set-up code");
        return Outcome{absl::OkStatus(), account->staff_id};
      });
  if (!outcome.ok()) return outcome.status();
  if (!outcome->status.ok()) return outcome->status;
  return OpenSession(outcome->staff_id, "SETUP_CODE", "SETUP_CODE_REDEEMED", client_address);
}

absl::StatusOr<v1::ChangePasswordResponse> IdentityKeeper::ChangePassword(
    const Caller& caller, const v1::ChangePasswordRequest& request,
    const std::string& client_address) {
  if (absl::Status policy =
          CheckPasswordPolicy(request.new_password(), caller.staff_code, "new_password");
      !policy.ok()) {
    return policy;
  }
  if (request.new_password() == request.current_password()) {
    return absl::InvalidArgumentError("new_password: must differ from the current password");
  }
  absl::StatusOr<std::string> new_hash =
      HashPassword(request.new_password(), options_.password_cost);
  if (!new_hash.ok()) return new_hash.status();
  const absl::Time now = clock_.Now();
  struct Outcome {
    absl::Status status;
  };
  absl::StatusOr<Outcome> outcome = RunTransaction<Outcome>(
      pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::StatusOr<Outcome> {
        Throttles throttles =
            LockThrottles(tx, caller.job_centre_code, caller.staff_code, client_address);
        if (absl::Status wait = CheckThrottles(throttles, now); !wait.ok()) return Outcome{wait};
        std::optional<Account> account = FindAccount(tx, caller.job_centre_code, caller.staff_code);
        const bool has = account && !account->password_hash.empty();
        if (!VerifyPassword(request.current_password(),
                            has ? account->password_hash : DecoyHash(options_.password_cost)) ||
            !has) {
          CountFailure(tx, throttles, options_, now, caller.job_centre_id, caller.staff_id,
                       client_address, "wrong current password (password change)");
          return Outcome{absl::UnauthenticatedError("current_password: wrong password")};
        }
        tx.exec_params0(
            "UPDATE credential SET password_hash = $2, changed_at = $3::timestamptz WHERE staff_id = $1",
            caller.staff_id, *new_hash, Ts(now));
        // Everyone else who knew the old password is signed out; this session stays.
        tx.exec_params0(
            "UPDATE session SET ended_at = $2::timestamptz WHERE staff_id = $1 AND ended_at IS NULL AND id <> $3",
            caller.staff_id, Ts(now), caller.session_id);
        tx.exec_params0("DELETE FROM login_throttle WHERE key = $1", throttles.account_key);
        RecordEvent(tx, now, caller.job_centre_id, caller.staff_id, "PASSWORD_CHANGED",
                    client_address, "changed by the staff member");
        return Outcome{absl::OkStatus()};
      });
  if (!outcome.ok()) return outcome.status();
  if (!outcome->status.ok()) return outcome->status;
  return v1::ChangePasswordResponse();
}

absl::StatusOr<v1::SetupCode> IdentityKeeper::IssueSetupCode(
    const Caller& caller, const v1::IssueSetupCodeRequest& request,
    const std::string& client_address) {
  if (caller.role != Role::kAdmin)
    return absl::PermissionDeniedError("only an admin issues set-up codes");
  if (!PlausibleCode(request.staff())) return absl::InvalidArgumentError("staff: required");
  const absl::Time now = clock_.Now();
  const std::string code = NewSetupCode();
  const absl::Time expires = now + options_.setup_code_lifetime;
  return RunTransaction<v1::SetupCode>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::SetupCode> {
        pqxx::result staff =
            tx.exec_params("SELECT id, active FROM staff WHERE job_centre_id = $1 AND code = $2",
                           caller.job_centre_id, request.staff());
        if (staff.empty()) {
          return absl::NotFoundError(
              absl::StrCat("staff: no staff member \"", request.staff(), "\" in this job centre"));
        }
        if (!staff[0][1].as<bool>()) {
          return absl::FailedPreconditionError(
              absl::StrCat("staff: \"", request.staff(), "\" is inactive"));
        }
        const int64_t staff_id = staff[0][0].as<int64_t>();
        tx.exec_params0(
            "INSERT INTO setup_code (staff_id, code_hash, issued_by, issued_at, expires_at) "
            "VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz) ON CONFLICT (staff_id) DO UPDATE SET "
            "code_hash = EXCLUDED.code_hash, issued_by = EXCLUDED.issued_by, issued_at = EXCLUDED.issued_at, "
            "expires_at = EXCLUDED.expires_at",
            staff_id, Sha256Hex(NormaliseSetupCode(code)), caller.staff_id, Ts(now), Ts(expires));
        RecordEvent(tx, now, caller.job_centre_id, staff_id, "SETUP_CODE_ISSUED", client_address,
                    absl::StrCat("issued by ", caller.staff_code, ", valid until ",
                                 FormatTimestamp(expires)));
        v1::SetupCode answer;
        answer.set_staff(request.staff());
        answer.set_setup_code(code);
        answer.set_expires_at(FormatTimestamp(expires));
        return answer;
      });
}

absl::StatusOr<v1::ListAuthEventsResponse> IdentityKeeper::ListAuthEvents(
    const Caller& caller, const v1::ListAuthEventsRequest& request) {
  if (caller.role != Role::kAdmin)
    return absl::PermissionDeniedError("only an admin reads the sign-in events");
  int64_t before = std::numeric_limits<int64_t>::max();
  if (!request.page_token().empty() && !absl::SimpleAtoi(request.page_token(), &before)) {
    return absl::InvalidArgumentError("page_token: not a token this service gave");
  }
  std::optional<std::string> since;
  if (!request.since().empty()) {
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, request.since(), &t, &error)) {
      return absl::InvalidArgumentError("since: must be RFC 3339, e.g. 2026-11-22T10:00:00Z");
    }
    since = Ts(t);
  }
  const int page_size = request.page_size() <= 0 ? 100 : std::min(request.page_size(), 1000);
  return RunTransaction<v1::ListAuthEventsResponse>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::ListAuthEventsResponse> {
        pqxx::result rows = tx.exec_params(
            absl::StrCat(
                "SELECT e.id, ", Micros("e.at"),
                ", coalesce(s.code, ''), e.kind, e.client_address, e.detail "
                "FROM auth_event e LEFT JOIN staff s ON s.id = e.staff_id "
                "WHERE e.job_centre_id = $1 AND e.id < $2 AND ($3 = '' OR s.code = $3) "
                "AND ($4::timestamptz IS NULL OR e.at >= $4::timestamptz) ORDER BY e.id DESC LIMIT $5"),
            caller.job_centre_id, before, request.staff(), since, page_size + 1);
        v1::ListAuthEventsResponse answer;
        for (int i = 0; i < static_cast<int>(rows.size()) && i < page_size; ++i) {
          const pqxx::row row = rows[i];
          v1::AuthEvent* event = answer.add_events();
          event->set_at(FormatTimestamp(*TimeOf(row[1])));
          event->set_staff(row[2].as<std::string>());
          event->set_kind(row[3].as<std::string>());
          event->set_client_address(row[4].as<std::string>());
          event->set_detail(row[5].as<std::string>());
          if (i == page_size - 1 && static_cast<int>(rows.size()) > page_size) {
            answer.set_next_page_token(std::to_string(row[0].as<int64_t>()));
          }
        }
        return answer;
      });
}

absl::Status IdentityKeeper::SetPassword(const std::string& job_centre, const std::string& staff,
                                         const std::string& password) {
  if (absl::Status policy = CheckPasswordPolicy(password, staff, "password"); !policy.ok())
    return policy;
  absl::StatusOr<std::string> hash = HashPassword(password, options_.password_cost);
  if (!hash.ok()) return hash.status();
  const absl::Time now = clock_.Now();
  return RunTransaction(pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::Status {
    std::optional<Account> account = FindAccount(tx, job_centre, staff);
    if (!account) {
      return absl::NotFoundError(
          absl::StrCat("no staff member \"", staff, "\" in job centre \"", job_centre, "\""));
    }
    tx.exec_params0(
        "INSERT INTO credential (staff_id, password_hash, changed_at) VALUES ($1, $2, $3::timestamptz) "
        "ON CONFLICT (staff_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, changed_at = EXCLUDED.changed_at",
        account->staff_id, *hash, Ts(now));
    tx.exec_params0("DELETE FROM login_throttle WHERE key = $1",
                    absl::StrCat("account:", job_centre, "/", staff));
    RecordEvent(tx, now, account->job_centre_id, account->staff_id, "PASSWORD_CHANGED", "",
                "set by an operator (forecast-admin)");
    return absl::OkStatus();
  });
}

void IdentityKeeper::RecordAuthEvent(const std::string& job_centre, const std::string& staff_code,
                                     const std::string& kind, const std::string& client_address,
                                     const std::string& detail) {
  const absl::Time now = clock_.Now();
  absl::Status recorded = RunTransaction(
      pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::Status {
        std::optional<Account> account = FindAccount(tx, job_centre, staff_code);
        const std::optional<int64_t> centre =
            account ? std::optional<int64_t>(account->job_centre_id) : JobCentreId(tx, job_centre);
        RecordEvent(tx, now, centre,
                    account ? std::optional<int64_t>(account->staff_id) : std::nullopt, kind,
                    client_address, detail.substr(0, 500));
        return absl::OkStatus();
      });
  if (!recorded.ok())
    std::cerr << "case-service: cannot record " << kind << ": " << recorded << std::endl;
}

SignInHooks IdentityKeeper::SignInHooks() {
  forecast::identity::SignInHooks hooks;
  hooks.issue_session = [this](const Caller& staff, const std::string& client_address) {
    return OpenSession(staff.staff_id, "SSO", "SSO_LOGIN", client_address);
  };
  hooks.record_event = [this](const std::string& job_centre, const std::string& staff_code,
                              const std::string& kind, const std::string& client_address,
                              const std::string& detail) {
    RecordAuthEvent(job_centre, staff_code, kind, client_address, detail);
  };
  return hooks;
}

}  // namespace forecast::identity
