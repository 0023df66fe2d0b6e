// A refusal from a service in the user's language: forecastctl speaks Danish when the
// environment says so (FORECASTCTL_LANG, else LC_ALL / LC_MESSAGES / LANG starting "da"), from
// the error's machine-readable details (services/common/status.h); English otherwise.
#ifndef CLIENTS_CLI_ERROR_TEXT_H_
#define CLIENTS_CLI_ERROR_TEXT_H_

#include <string>

#include "absl/status/status.h"

namespace forecast::cli {

// True when the user's language is Danish. Thread-safe (reads the environment).
bool UserSpeaksDanish();

// The error as one line: in Danish from its field, reason and parameters when `danish` and the
// reason is known; else "<CODE>: <message>" as the service wrote it. Thread-safe (pure).
std::string PhraseError(const absl::Status& status, bool danish);

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_ERROR_TEXT_H_
