// Small Status helpers missing from Debian's Abseil 20220623 (no absl/status/status_macros.h).
#ifndef RNNPRUNE_COMMON_STATUS_MACROS_H_
#define RNNPRUNE_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RNNPRUNE_CONCAT_INNER_(a, b) a##b
#define RNNPRUNE_CONCAT_(a, b) RNNPRUNE_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR(expr): evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define RETURN_IF_ERROR(expr)                            \
  do {                                                   \
    ::absl::Status rnnprune_status_ = (expr);            \
    if (!rnnprune_status_.ok()) return rnnprune_status_; \
  } while (false)

// ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (an absl::StatusOr<T>); on error returns its
// status, otherwise moves the value into `lhs` (which may be a declaration, e.g. `auto x`).
#define ASSIGN_OR_RETURN(lhs, expr) \
  RNNPRUNE_ASSIGN_OR_RETURN_IMPL_(RNNPRUNE_CONCAT_(rnnprune_statusor_, __LINE__), lhs, expr)

#define RNNPRUNE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                    \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()

#endif  // RNNPRUNE_COMMON_STATUS_MACROS_H_
