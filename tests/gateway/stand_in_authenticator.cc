#include "tests/gateway/stand_in_authenticator.h"

#include <utility>

#include <google/protobuf/util/json_util.h>

#include "forecast/v1/identity_service.pb.h"
#include "services/gateway/request_checks.h"

namespace forecast::gateway {
namespace {

namespace v1 = ::forecast::v1;

absl::Status Refused() {
  return absl::UnauthenticatedError("unknown job centre or staff code, or wrong password");
}

absl::Status NoSession() { return absl::UnauthenticatedError("log in first"); }

std::string StaffJson(const v1::StaffMember& staff) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(staff, &json, options);
  return json;
}

Metadata StandInMetadata(const std::string& job_centre, const std::string& staff) {
  return {{"x-job-centre", job_centre}, {"x-staff", staff}};
}

}  // namespace

StandInAuthenticator::StandInAuthenticator(const RpcTranscoder& transcoder, SessionStore& sessions,
                                           std::string demo_password)
    : transcoder_(transcoder), sessions_(sessions), demo_password_(std::move(demo_password)) {}

void StandInAuthenticator::Login(SignIn sign_in, Done<SignedIn> done) {
  if (!ConstantTimeEquals(sign_in.password, demo_password_)) {
    done(Refused());
    return;
  }
  absl::StatusOr<MethodRoute> who_am_i = transcoder_.Resolve("CaseService", "WhoAmI");
  if (!who_am_i.ok()) {
    done(who_am_i.status());
    return;
  }
  SessionIdentity identity{sign_in.job_centre, sign_in.staff_code, ""};
  transcoder_.CallUnaryAsync(
      *who_am_i, "{}", StandInMetadata(identity.job_centre, identity.staff_code),
      [this, identity, done = std::move(done)](absl::StatusOr<std::string> staff) mutable {
        if (!staff.ok()) {
          const absl::StatusCode code = staff.status().code();
          const bool unknown = code == absl::StatusCode::kUnauthenticated ||
                               code == absl::StatusCode::kNotFound ||
                               code == absl::StatusCode::kPermissionDenied;
          done(unknown ? Refused() : staff.status());
          return;
        }
        identity.staff_json = *staff;
        SignedIn signed_in;
        signed_in.session_token = sessions_.Create(identity);
        signed_in.session_expires = absl::InfiniteFuture();
        signed_in.caller = Caller{identity.job_centre, identity.staff_code, identity.staff_json,
                                  StandInMetadata(identity.job_centre, identity.staff_code)};
        done(std::move(signed_in));
      });
}

void StandInAuthenticator::Authenticate(const std::string& session_token, Done<Caller> done) {
  std::optional<SessionIdentity> identity = sessions_.Find(session_token);
  if (!identity) {
    done(NoSession());
    return;
  }
  done(Caller{identity->job_centre, identity->staff_code, identity->staff_json,
              StandInMetadata(identity->job_centre, identity->staff_code)});
}

void StandInAuthenticator::Logout(const std::string& session_token, Done<int> done) {
  const bool known = sessions_.Find(session_token).has_value();
  sessions_.Remove(session_token);
  done(known ? 1 : 0);
}

void StandInAuthenticator::LogoutEverywhere(const std::string& session_token, Done<int> done) {
  std::optional<SessionIdentity> identity = sessions_.Find(session_token);
  if (!identity) {
    done(NoSession());
    return;
  }
  done(static_cast<int>(sessions_.RemoveAllOf(identity->job_centre, identity->staff_code)));
}

absl::StatusOr<SignedIn> StandInAuthenticator::Adopt(const std::string& login_response_json) {
  v1::LoginResponse response;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(login_response_json, &response, options).ok() ||
      !CheckCode("job_centre", response.staff().job_centre()).ok() ||
      !CheckCode("staff", response.staff().code()).ok()) {
    return absl::InternalError("identity service: unreadable sign-in");
  }
  SessionIdentity identity{response.staff().job_centre(), response.staff().code(),
                           StaffJson(response.staff())};
  SignedIn signed_in;
  signed_in.session_token = sessions_.Create(identity);
  signed_in.session_expires = absl::InfiniteFuture();
  signed_in.caller = Caller{identity.job_centre, identity.staff_code, identity.staff_json,
                            StandInMetadata(identity.job_centre, identity.staff_code)};
  return signed_in;
}

void StandInAuthenticator::RedeemSetupCode(SignIn, Done<SignedIn> done) {
  done(absl::UnimplementedError("set-up codes need the identity service (start with --identity)"));
}

void StandInAuthenticator::ChangePassword(const std::string&, std::string, std::string,
                                          Done<int> done) {
  done(absl::UnimplementedError("passwords need the identity service (start with --identity)"));
}

}  // namespace forecast::gateway
