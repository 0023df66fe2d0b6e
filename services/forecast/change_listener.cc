#include "services/forecast/change_listener.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <prometheus/counter.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/observability/observability.h"

namespace forecast::fsvc {
namespace {

prometheus::Counter& ReconnectsMetric() {
  static prometheus::Counter& c = prometheus::BuildCounter()
                                      .Name("jobcentre_forecast_listener_reconnects_total")
                                      .Help("Times the change listener connected again")
                                      .Register(obs::Registry())
                                      .Add({});
  return c;
}

prometheus::Counter& CaughtUpMetric() {
  static prometheus::Counter& c =
      prometheus::BuildCounter()
          .Name("jobcentre_forecast_caught_up_cases_total")
          .Help(
              "Cases re-read after a reconnect because they changed while the listener was cut off")
          .Register(obs::Registry())
          .Add({});
  return c;
}

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
    // "at": when the change was written (migration 0040), for the change-lag metric.
    const absl::Time written_at =
        j.contains("at") && j["at"].is_number()
            ? absl::FromUnixMicros(static_cast<int64_t>(j["at"].get<double>() * 1e6))
            : absl::InfinitePast();
    engine.refresher().CaseChanged(centre, j["case_id"].get<int64_t>(), written_at);
  } else if (channel == "case_changed") {
    engine.refresher().CentreReload(
        centre);  // a bulk statement (import): no case ids, read it whole
  } else {
    engine.refresher().CentreChanged(centre);
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

namespace {

// The highest case event id and the oldest unfinished transaction (64-bit) of a snapshot taken on
// the listening connection.
ChangeMark TakeMark(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn, "change_mark");
  pqxx::row row = tx.exec1(
      "SELECT (SELECT coalesce(max(id), 0) FROM case_read_model.case_event), "
      "pg_snapshot_xmin(pg_current_snapshot())::text::bigint");
  return ChangeMark{row[0].as<int64_t>(), row[1].as<int64_t>()};
}

}  // namespace

void ChangeListener::Loop() {
  int failures = 0;
  std::unique_ptr<Listening> l = std::move(initial_);
  // Marks are taken on the listening connection every second. A mark counts (`confirmed`) once
  // a later one was taken on the same connection: by then every transaction that had finished
  // before the earlier mark's snapshot has signalled its NOTIFY, which arrived and was
  // dispatched. So every change after `confirmed` that was committed while the connection was
  // lost is among those CasesChangedAfter(confirmed) finds.
  std::optional<ChangeMark> confirmed, previous;
  auto last_mark = std::chrono::steady_clock::now();
  while (!stopping_) {
    try {
      if (l == nullptr) {
        l = Listening::Connect(conninfo_, engine_);
        previous.reset();
        // LISTEN again first, then catch up on what was committed while cut off.
        if (confirmed.has_value()) {
          const int64_t cases = engine_.refresher().CatchUp(*confirmed);
          caught_up_cases_ += cases;
          CaughtUpMetric().Increment(static_cast<double>(cases));
          std::fprintf(stderr,
                       "forecast-service: change listener: listening again; catching up on %lld "
                       "cases changed after event %lld\n",
                       static_cast<long long>(cases), static_cast<long long>(confirmed->event_id));
        } else {
          engine_.refresher().ReloadAll();  // no mark yet: every loaded centre is read again
        }
        ++reconnects_;
        ReconnectsMetric().Increment();
      }
      failures = 0;
      while (!stopping_) {
        // Wakes on a notification or after 200 ms to check for shutdown.
        l->conn->await_notification(0, 200000);
        if (!l->conn->is_open()) throw pqxx::broken_connection("listening connection closed");
        // A notification also wakes the wait: marks go by the clock, not by wake-ups.
        if (std::chrono::steady_clock::now() - last_mark >= std::chrono::seconds(1)) {
          last_mark = std::chrono::steady_clock::now();
          const ChangeMark mark = TakeMark(*l->conn);
          l->conn->get_notifs();  // dispatches what arrived with the query's answer
          if (previous.has_value()) confirmed = previous;
          previous = mark;
        }
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
