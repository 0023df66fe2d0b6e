#include "services/common/command_line.h"

#include <iostream>

namespace forecast {

std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << app.get_name() << ": " << e.what() << "\n"
              << "Run with --help for the flags.\n";
    return 2;
  }
  return std::nullopt;
}

CLI::Option* AddDurationOption(CLI::App& app, const std::string& name, absl::Duration* out,
                               const std::string& help) {
  return app
      .add_option_function<std::string>(
          "--" + name,
          [name, out](const std::string& text) {
            absl::Duration parsed;
            if (!absl::ParseDuration(text, &parsed) || parsed <= absl::ZeroDuration()) {
              throw CLI::ValidationError("--" + name,
                                         "not a positive duration (e.g. 90s, 15m, 12h): " + text);
            }
            *out = parsed;
          },
          help)
      ->type_name("DURATION");
}

void AddServiceSecurityOptions(CLI::App& app, ServiceSecurityFiles* files) {
  app.add_option("--tls-cert", files->tls_cert, "PEM certificate chain of this server")->required();
  app.add_option("--tls-key", files->tls_key, "its PEM private key")->required();
  app.add_option("--tls-client-ca", files->tls_client_ca,
                 "PEM CA of client certificates (mutual TLS with the gateway)");
  app.add_option("--token-public-key", files->token_public_key,
                 "PEM Ed25519 public key that verifies access tokens")
      ->required();
}

}  // namespace forecast
