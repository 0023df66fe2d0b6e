#include "services/gateway/authenticator.h"

#include <algorithm>
#include <utility>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "forecast/v1/identity_service.pb.h"
#include "services/gateway/request_checks.h"

namespace forecast::gateway {
namespace {

namespace v1 = ::forecast::v1;

absl::Status NoSession() { return absl::UnauthenticatedError("log in first"); }

std::string StaffJson(const v1::StaffMember& staff) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(staff, &json, options);
  return json;
}

absl::Time ParseTime(const std::string& rfc3339, absl::Time otherwise) {
  absl::Time time;
  std::string error;
  if (rfc3339.empty() || !absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error)) {
    return otherwise;
  }
  return time;
}

}  // namespace

bool ConstantTimeEquals(const std::string& given, const std::string& expected) {
  const size_t length = std::max(given.size(), expected.size());
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < length; ++i) {
    const auto a = static_cast<unsigned char>(i < given.size() ? given[i] : 0);
    const auto b = static_cast<unsigned char>(i < expected.size() ? expected[i] : 0);
    diff |= static_cast<unsigned char>(a ^ b);
  }
  return diff == 0;
}

// ---------------------------------------------------------------------------------------------
// IdentityService.

IdentityAuthenticator::IdentityAuthenticator(const RpcTranscoder& transcoder, absl::Duration margin,
                                             std::function<absl::Time()> now,
                                             absl::Duration recheck)
    : transcoder_(transcoder), margin_(margin), recheck_(recheck), now_(std::move(now)) {}

size_t IdentityAuthenticator::cached_sessions() {
  absl::MutexLock lock(&mu_);
  return cache_.size();
}

void IdentityAuthenticator::CallForSession(const std::string& method, std::string request,
                                           const Metadata& metadata, const std::string& known_token,
                                           Done<SignedIn> done) {
  absl::StatusOr<MethodRoute> route = transcoder_.Resolve("IdentityService", method);
  if (!route.ok()) {
    done(route.status());
    return;
  }
  transcoder_.CallBytesAsync(
      *route, std::move(request), metadata,
      [this, known_token, done = std::move(done)](absl::StatusOr<std::string> bytes) {
        if (!bytes.ok()) {
          if (!known_token.empty() && bytes.status().code() == absl::StatusCode::kUnauthenticated) {
            absl::MutexLock lock(&mu_);
            cache_.erase(known_token);
          }
          done(bytes.status());
          return;
        }
        done(Remember(known_token, *bytes));
      });
}

absl::StatusOr<SignedIn> IdentityAuthenticator::Remember(const std::string& known_token,
                                                         const std::string& response_bytes) {
  v1::LoginResponse response;
  if (!response.ParseFromString(response_bytes)) {
    return absl::InternalError("identity service: unreadable answer");
  }
  const std::string token =
      response.session_token().empty() ? known_token : response.session_token();
  // The access token becomes a metadata value: refuse anything a header cannot carry.
  if (!IsSessionToken(token) || response.access_token().empty() ||
      !IsHeaderSafe(response.access_token(), 8192)) {
    return absl::InternalError("identity service: malformed session or access token");
  }
  SignedIn signed_in;
  signed_in.session_token = token;
  signed_in.session_expires = ParseTime(response.session_expires_at(), absl::InfiniteFuture());
  signed_in.caller = Caller{response.staff().job_centre(),
                            response.staff().code(),
                            StaffJson(response.staff()),
                            {{"authorization", "Bearer " + response.access_token()}}};
  const absl::Time now = now_();
  const absl::Time access_expires = ParseTime(response.access_expires_at(), now + absl::Minutes(1));
  absl::MutexLock lock(&mu_);
  if (cache_.size() > 100000) {  // bound memory: drop what has expired
    for (auto it = cache_.begin(); it != cache_.end();) {
      it = it->second.access_expires <= now ? cache_.erase(it) : std::next(it);
    }
  }
  cache_[token] = Cached{signed_in.caller, access_expires, now};
  return signed_in;
}

absl::StatusOr<SignedIn> IdentityAuthenticator::Adopt(const std::string& login_response_json) {
  v1::LoginResponse response;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(login_response_json, &response, options).ok()) {
    return absl::InternalError("identity service: unreadable sign-in");
  }
  return Remember("", response.SerializeAsString());
}

void IdentityAuthenticator::Login(SignIn sign_in, Done<SignedIn> done) {
  v1::LoginRequest request;
  request.set_job_centre(sign_in.job_centre);
  request.set_staff(sign_in.staff_code);
  request.set_password(sign_in.password);
  request.set_client_address(sign_in.client_address);
  CallForSession("Login", request.SerializeAsString(), {}, "", std::move(done));
}

void IdentityAuthenticator::RedeemSetupCode(SignIn sign_in, Done<SignedIn> done) {
  v1::RedeemSetupCodeRequest request;
  request.set_job_centre(sign_in.job_centre);
  request.set_staff(sign_in.staff_code);
  request.set_setup_code(sign_in.setup_code);
  request.set_new_password(sign_in.password);
  request.set_client_address(sign_in.client_address);
  CallForSession("RedeemSetupCode", request.SerializeAsString(), {}, "", std::move(done));
}

void IdentityAuthenticator::WithCaller(const std::string& session_token, Done<Caller> done) {
  std::optional<Caller> cached;
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(session_token);
    const absl::Time now = now_();
    if (it != cache_.end() && it->second.access_expires - margin_ > now &&
        now - it->second.fetched < recheck_) {
      cached = it->second.caller;
    }
  }
  if (cached) {
    done(std::move(*cached));
    return;
  }
  v1::RefreshSessionRequest request;
  request.set_session_token(session_token);
  CallForSession("RefreshSession", request.SerializeAsString(), {}, session_token,
                 [done = std::move(done)](absl::StatusOr<SignedIn> signed_in) {
                   if (!signed_in.ok()) {
                     done(signed_in.status().code() == absl::StatusCode::kUnauthenticated
                              ? NoSession()
                              : signed_in.status());
                     return;
                   }
                   done(std::move(signed_in->caller));
                 });
}

void IdentityAuthenticator::Authenticate(const std::string& session_token, Done<Caller> done) {
  WithCaller(session_token, std::move(done));
}

void IdentityAuthenticator::Logout(const std::string& session_token, Done<int> done) {
  {
    absl::MutexLock lock(&mu_);
    cache_.erase(session_token);
  }
  absl::StatusOr<MethodRoute> route = transcoder_.Resolve("IdentityService", "Logout");
  if (!route.ok()) {
    done(route.status());
    return;
  }
  v1::LogoutRequest request;
  request.set_session_token(session_token);
  transcoder_.CallBytesAsync(*route, request.SerializeAsString(), {},
                             [done = std::move(done)](absl::StatusOr<std::string> bytes) {
                               if (!bytes.ok()) {
                                 done(bytes.status());
                                 return;
                               }
                               v1::LogoutResponse response;
                               response.ParseFromString(*bytes);
                               done(response.sessions_ended());
                             });
}

void IdentityAuthenticator::LogoutEverywhere(const std::string& session_token, Done<int> done) {
  WithCaller(session_token, [this, session_token,
                             done = std::move(done)](absl::StatusOr<Caller> caller) mutable {
    if (!caller.ok()) {
      done(caller.status());
      return;
    }
    absl::StatusOr<MethodRoute> route = transcoder_.Resolve("IdentityService", "LogoutEverywhere");
    if (!route.ok()) {
      done(route.status());
      return;
    }
    {
      // Other sessions of this person may be cached here too; forget them all.
      absl::MutexLock lock(&mu_);
      for (auto it = cache_.begin(); it != cache_.end();) {
        const bool same = it->second.caller.job_centre == caller->job_centre &&
                          it->second.caller.staff_code == caller->staff_code;
        it = same ? cache_.erase(it) : std::next(it);
      }
    }
    transcoder_.CallBytesAsync(*route, v1::LogoutEverywhereRequest().SerializeAsString(),
                               caller->metadata,
                               [done = std::move(done)](absl::StatusOr<std::string> bytes) {
                                 if (!bytes.ok()) {
                                   done(bytes.status());
                                   return;
                                 }
                                 v1::LogoutResponse response;
                                 response.ParseFromString(*bytes);
                                 done(response.sessions_ended());
                               });
  });
}

void IdentityAuthenticator::ChangePassword(const std::string& session_token,
                                           std::string current_password, std::string new_password,
                                           Done<int> done) {
  WithCaller(session_token, [this, current_password = std::move(current_password),
                             new_password = std::move(new_password),
                             done = std::move(done)](absl::StatusOr<Caller> caller) mutable {
    if (!caller.ok()) {
      done(caller.status());
      return;
    }
    absl::StatusOr<MethodRoute> route = transcoder_.Resolve("IdentityService", "ChangePassword");
    if (!route.ok()) {
      done(route.status());
      return;
    }
    v1::ChangePasswordRequest request;
    request.set_current_password(current_password);
    request.set_new_password(new_password);
    transcoder_.CallBytesAsync(*route, request.SerializeAsString(), caller->metadata,
                               [done = std::move(done)](absl::StatusOr<std::string> bytes) {
                                 if (!bytes.ok()) {
                                   done(bytes.status());
                                   return;
                                 }
                                 done(0);
                               });
  });
}

}  // namespace forecast::gateway
