// forecast-service --db CONNINFO --port N [--host 127.0.0.1] [--no-warm]
// Serves forecast.v1.ForecastService with health checking and reflection. Once listening, a
// background thread loads every job centre and builds each team's dashboard (with its backtest),
// so that the first callers find them ready; --no-warm leaves that to the first calls.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "services/common/caller.h"
#include "services/common/calendar.h"
#include "services/common/pg_pool.h"
#include "services/common/server.h"
#include "services/common/cached_staff_directory.h"
#include "services/forecast/change_listener.h"
#include "services/forecast/forecast_engine.h"
#include "services/forecast/forecast_service_impl.h"
#include "services/forecast/history_store.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: forecast-service --db CONNINFO --port N [--host HOST] [--no-warm]\n");
  return 2;
}

// Loads every centre and builds every team's dashboard (and its backtest) once.
void WarmUp(forecast::fsvc::ForecastEngine& engine, forecast::fsvc::HistoryStore& store) {
  auto centres = store.ListCentres();
  if (!centres.ok()) return;
  for (int64_t id : *centres) {
    auto view = engine.Now(id);
    if (!view.ok()) {
      std::fprintf(stderr, "forecast-service: warming centre %lld: %s\n",
                   static_cast<long long>(id), std::string(view.status().message()).c_str());
      continue;
    }
    (void)engine.Accuracy(**view, {forecast::fsvc::ScopeFilter::Kind::kJobCentre, 0}, 0);
    for (const auto& unit : (*view)->history().units) {
      if (unit.is_team) (void)engine.TeamDashboard(*view, unit.id);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  forecast::BlockShutdownSignals();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string db, host = "127.0.0.1";
  int port = -1;
  bool warm = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--db" && i + 1 < argc) {
      db = argv[++i];
    } else if (arg == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else if (arg == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else if (arg == "--no-warm") {
      warm = false;
    } else {
      return Usage();
    }
  }
  if (db.empty() || port < 0) return Usage();

  forecast::PgPool pool(db, 16);
  forecast::fsvc::PgHistoryStore store(pool);
  forecast::SystemClock clock;
  forecast::fsvc::ForecastEngine engine(store, clock);
  forecast::fsvc::ChangeListener listener(db, engine);
  if (absl::Status started = listener.Start(); !started.ok()) {
    std::fprintf(stderr, "forecast-service: %s\n", std::string(started.message()).c_str());
    return 1;
  }
  forecast::PgStaffDirectory staff(pool);
  forecast::CachedStaffDirectory directory(staff, clock);
  forecast::fsvc::ForecastServiceImpl service(engine, directory, store);
  auto server = forecast::StartGrpcServer({&service}, host, port);
  if (!server.ok()) {
    std::fprintf(stderr, "forecast-service: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::printf("forecast-service listening on %s:%d\n", host.c_str(), server->port);
  std::thread warmer;
  if (warm) warmer = std::thread([&] { WarmUp(engine, store); });
  const int signal_number = forecast::WaitForShutdownSignal();
  std::printf("forecast-service stopping on signal %d\n", signal_number);
  forecast::ShutdownGracefully(*server->server);
  if (warmer.joinable()) warmer.join();
  return 0;
}
