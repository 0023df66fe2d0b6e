#include "services/forecast/change_listener.h"

#include <chrono>
#include <deque>
#include <cstdio>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <prometheus/counter.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/case_change_notice.h"
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
  Receiver(pqxx::connection_base& conn, const std::string& channel, ChangeListener& listener)
      : pqxx::notification_receiver(conn, channel), listener_(listener) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override {
    listener_.Dispatch(channel(), payload);
  }

 private:
  ChangeListener& listener_;
};

}  // namespace

struct ChangeListener::Listening {
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<Receiver> cases, reference, forecast;

  // Connects and LISTENs on the three channels.
  static std::unique_ptr<Listening> Connect(const std::string& conninfo, ChangeListener& listener) {
    auto l = std::make_unique<Listening>();
    l->conn = std::make_unique<pqxx::connection>(conninfo);
    l->cases = std::make_unique<Receiver>(*l->conn, kCaseChangedChannel, listener);
    l->reference = std::make_unique<Receiver>(*l->conn, kReferenceChangedChannel, listener);
    l->forecast = std::make_unique<Receiver>(*l->conn, kForecastChangedChannel, listener);
    return l;
  }
};

void ChangeListener::Dispatch(const std::string& channel, const std::string& payload) {
  std::optional<CaseChangeNotice> notice = CaseChangeNotice::Parse(payload);
  if (!notice.has_value()) {
    std::fprintf(stderr, "forecast-service: ignoring malformed %s notification: %s\n",
                 channel.c_str(), payload.substr(0, 200).c_str());
    return;
  }
  if (channel == kReferenceChangedChannel) {
    engine_.refresher().CentreReload(notice->centre_id);  // codes and teams the cases map to
    return;
  }
  if (channel != kCaseChangedChannel) {
    engine_.refresher().CentreChanged(notice->centre_id);  // targets, dialogues
    return;
  }
  switch (notice->scope) {
    case CaseChangeNotice::Scope::kCase:
      engine_.refresher().CaseChanged(notice->centre_id, notice->case_id, notice->written_at);
      break;
    case CaseChangeNotice::Scope::kBulk:
      engine_.refresher().CentreReload(notice->centre_id);  // an import: read it whole
      break;
    case CaseChangeNotice::Scope::kResync: resync_requested_ = true; break;
  }
}

ChangeListener::ChangeListener(std::string conninfo, ForecastEngine& engine)
    : conninfo_(std::move(conninfo)), engine_(engine) {}

absl::Status ChangeListener::Start() {
  // LISTEN before anything is loaded, so no change committed after a load can be missed.
  try {
    initial_ = Listening::Connect(conninfo_, *this);
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
  // it is kAnnounced old: the case service announces a change within milliseconds of its commit
  // (ChangeAnnouncer), so by then every change committed before the mark has been announced,
  // and its notice arrived and was dispatched. So every change after `confirmed` that was
  // committed while the connection was lost is among those CasesChangedAfter(confirmed) finds.
  constexpr auto kAnnounced = std::chrono::seconds(2);
  std::optional<ChangeMark> confirmed;
  std::deque<std::pair<std::chrono::steady_clock::time_point, ChangeMark>> recent;
  auto catch_up = [&] {
    if (!confirmed.has_value()) {
      engine_.refresher().ReloadAll();  // no mark yet: every loaded centre is read again
      return;
    }
    const int64_t cases = engine_.refresher().CatchUp(*confirmed);
    caught_up_cases_ += cases;
    CaughtUpMetric().Increment(static_cast<double>(cases));
    std::fprintf(stderr,
                 "forecast-service: change listener: catching up on %lld cases changed after "
                 "event %lld\n",
                 static_cast<long long>(cases), static_cast<long long>(confirmed->event_id));
  };
  auto last_mark = std::chrono::steady_clock::now();
  while (!stopping_) {
    try {
      if (l == nullptr) {
        l = Listening::Connect(conninfo_, *this);
        recent.clear();
        // LISTEN again first, then catch up on what was committed while cut off.
        catch_up();
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
          const auto now = std::chrono::steady_clock::now();
          recent.emplace_back(now, TakeMark(*l->conn));
          l->conn->get_notifs();  // dispatches what arrived with the query's answer
          while (!recent.empty() && now - recent.front().first >= kAnnounced) {
            confirmed = recent.front().second;
            recent.pop_front();
          }
        }
        // A case service started: changes its predecessor committed may not have been announced.
        if (resync_requested_.exchange(false)) catch_up();
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
