#include "services/forecast/change_listener.h"

#include <chrono>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"

namespace forecast::fsvc {
namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::string& channel, ForecastEngine& engine)
      : pqxx::notification_receiver(conn, channel), engine_(engine) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override {
    ChangeListener::Dispatch(channel(), payload, engine_);
  }

 private:
  ForecastEngine& engine_;
};

}  // namespace

struct ChangeListener::Listening {
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<Receiver> cases, forecast;

  // Connects and LISTENs on both channels.
  static std::unique_ptr<Listening> Connect(const std::string& conninfo, ForecastEngine& engine) {
    auto l = std::make_unique<Listening>();
    l->conn = std::make_unique<pqxx::connection>(conninfo);
    l->cases = std::make_unique<Receiver>(*l->conn, "case_changed", engine);
    l->forecast = std::make_unique<Receiver>(*l->conn, "forecast_changed", engine);
    return l;
  }
};

void ChangeListener::Dispatch(const std::string& channel, const std::string& payload,
                              ForecastEngine& engine) {
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("job_centre_id") || !j["job_centre_id"].is_number_integer()) {
    std::fprintf(stderr, "forecast-service: ignoring malformed %s notification: %s\n",
                 channel.c_str(), payload.substr(0, 200).c_str());
    return;
  }
  const int64_t centre = j["job_centre_id"].get<int64_t>();
  if (channel == "case_changed" && j.contains("case_id") && j["case_id"].is_number_integer()) {
    engine.CaseChanged(centre, j["case_id"].get<int64_t>());
  } else if (channel == "case_changed") {
    engine.CentreReload(centre);  // a bulk statement (import): no case ids, read it whole
  } else {
    engine.CentreChanged(centre);
  }
}

ChangeListener::ChangeListener(std::string conninfo, ForecastEngine& engine)
    : conninfo_(std::move(conninfo)), engine_(engine) {}

absl::Status ChangeListener::Start() {
  // LISTEN before anything is loaded, so no change committed after a load can be missed.
  try {
    initial_ = Listening::Connect(conninfo_, engine_);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("listening for changes: ", e.what()));
  }
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

ChangeListener::~ChangeListener() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void ChangeListener::Loop() {
  int failures = 0;
  std::unique_ptr<Listening> l = std::move(initial_);
  while (!stopping_) {
    try {
      if (l == nullptr) {
        l = Listening::Connect(conninfo_, engine_);
        engine_.ReloadAll();  // changes may have been missed while disconnected
      }
      failures = 0;
      while (!stopping_) {
        // Wakes on a notification or after 200 ms to check for shutdown.
        l->conn->await_notification(0, 200000);
        if (!l->conn->is_open()) throw pqxx::broken_connection("listening connection closed");
      }
    } catch (const std::exception& e) {
      l.reset();
      if (stopping_) break;
      ++failures;
      std::fprintf(stderr, "forecast-service: change listener: %s (retrying)\n", e.what());
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::min(5000, 100 * failures * failures)));
    }
  }
}

}  // namespace forecast::fsvc
