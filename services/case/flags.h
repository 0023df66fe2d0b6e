// Minimal "--name value" / "--flag" command-line parsing shared by the case binaries.
#ifndef SERVICES_CASE_FLAGS_H_
#define SERVICES_CASE_FLAGS_H_

#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace forecast {

struct Flags {
  std::map<std::string, std::string> values;
  std::set<std::string> switches;
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  bool Has(const std::string& name) const {
    return values.count(name) > 0 || switches.count(name) > 0;
  }
};

// Parses argv[first..] into flags; `boolean` names take no value. INVALID_ARGUMENT on unknown
// flags or a missing value. Thread-safe (pure).
inline absl::StatusOr<Flags> ParseFlags(int argc, char** argv, int first,
                                        const std::set<std::string>& with_value,
                                        const std::set<std::string>& boolean) {
  Flags flags;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0)
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument ", arg));
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (boolean.count(name) > 0 && !inline_value) {
      flags.switches.insert(name);
      continue;
    }
    if (with_value.count(name) == 0)
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    if (!inline_value) {
      if (i + 1 >= argc)
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      value = argv[++i];
    }
    flags.values[name] = value;
  }
  return flags;
}

}  // namespace forecast

#endif  // SERVICES_CASE_FLAGS_H_
