// The status macros every service may use, so that a function reads as its steps:
//   RETURN_IF_ERROR(CheckText(note, "note", 0, kMaxNoteChars));
//   ASSIGN_OR_RETURN(const Caller caller, ResolveCaller(context, authenticator));
// Both work in any function returning absl::Status or absl::StatusOr<T> (a status converts to
// either). Only for absl types: a grpc::Status goes through ToGrpcStatus (status.h) at the edge.
#ifndef SERVICES_COMMON_STATUS_MACROS_H_
#define SERVICES_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define STATUS_MACROS_CONCAT_INNER_(a, b) a##b
#define STATUS_MACROS_CONCAT_(a, b) STATUS_MACROS_CONCAT_INNER_(a, b)

// Evaluates an absl::Status expression once; returns it from the enclosing function on error.
#define RETURN_IF_ERROR(expr)                                      \
  do {                                                             \
    ::absl::Status status_macros_status_ = (expr);                 \
    if (!status_macros_status_.ok()) return status_macros_status_; \
  } while (false)

// Evaluates an absl::StatusOr expression once; returns its status on error, else moves the value
// into `lhs` (a declaration such as `const int n` or an assignable expression). Expands to more
// than one statement: do not use it as the body of an unbraced if or loop.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(STATUS_MACROS_CONCAT_(status_macros_value_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(value, lhs, expr)     \
  auto value = (expr);                               \
  if (!value.ok()) return std::move(value).status(); \
  lhs = std::move(*value)

#endif  // SERVICES_COMMON_STATUS_MACROS_H_
