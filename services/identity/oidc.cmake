# Single sign-on (OpenID Connect): ID token verification with OpenSSL, provider discovery and key
# cache over cpp-httplib, the identity_provider table and LoginWithIdToken. Also linked by the
# gateway's relying party (discovery, token endpoint).
find_package(OpenSSL REQUIRED)
pkg_check_modules(OIDC_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
add_library(identity_oidc STATIC
  ${CMAKE_CURRENT_LIST_DIR}/oidc_jwt.cc
  ${CMAKE_CURRENT_LIST_DIR}/oidc_http.cc
  ${CMAKE_CURRENT_LIST_DIR}/oidc_sign_in.cc)
target_include_directories(identity_oidc PUBLIC ${PROJECT_SOURCE_DIR})
target_compile_options(identity_oidc PRIVATE ${PROJECT_WARNINGS})
target_link_libraries(identity_oidc PUBLIC
  service_common forecast_audit forecast_proto PkgConfig::OIDC_HTTPLIB OpenSSL::Crypto OpenSSL::SSL
  nlohmann_json::nlohmann_json absl::status absl::statusor absl::strings absl::time
  absl::synchronization)
