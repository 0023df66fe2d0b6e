#include "services/gateway/stream_hub.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/gateway/http_status.h"

namespace forecast::gateway {
namespace {

// The unary method answering the same request as a Watch method: "WatchTeamDashboard" ->
// "GetTeamDashboard", when it exists with the same request type.
std::optional<MethodRoute> Counterpart(const RpcTranscoder& transcoder, const MethodRoute& route) {
  const std::string& name = route.method->name();
  if (!absl::StartsWith(name, "Watch")) return std::nullopt;
  absl::StatusOr<MethodRoute> get =
      transcoder.Resolve(route.method->service()->name(), absl::StrCat("Get", name.substr(5)));
  if (!get.ok() || get->method->server_streaming() || get->method->client_streaming() ||
      get->method->input_type() != route.method->input_type()) {
    return std::nullopt;
  }
  return *get;
}

}  // namespace

std::string SseFrame(const std::string& event, const std::string& json) {
  std::string frame;
  if (!event.empty()) absl::StrAppend(&frame, "event: ", event, "\n");
  // Data is single-line JSON (the printers escape newlines inside strings).
  absl::StrAppend(&frame, "data: ", json, "\n\n");
  return frame;
}

StreamHub::StreamHub(const RpcTranscoder& transcoder, StreamLimits limits)
    : transcoder_(transcoder), limits_(limits) {}

StreamHub::~StreamHub() { Shutdown(SseFrame("shutdown", "{}")); }

size_t StreamHub::watchers() {
  absl::MutexLock lock(&mu_);
  return watchers_.size();
}

size_t StreamHub::upstream_calls() {
  absl::MutexLock lock(&mu_);
  return static_cast<size_t>(live_calls_);
}

absl::Status StreamHub::Watch(const MethodRoute& route, const std::string& request,
                              const Caller& caller, const std::string& session_key,
                              std::shared_ptr<Exchange> exchange) {
  const std::string user_key = absl::StrCat(caller.job_centre, "\n", caller.staff_code);
  uint64_t id;
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) return absl::UnavailableError("the gateway is shutting down");
    if (per_session_[session_key] >= limits_.per_session) {
      return absl::ResourceExhaustedError(
          absl::StrCat("streams: at most ", limits_.per_session,
                       " live views per browser session; close a tab or window with live figures"));
    }
    if (per_user_[user_key] >= limits_.per_user) {
      return absl::ResourceExhaustedError(
          absl::StrCat("streams: at most ", limits_.per_user,
                       " live views per person; close a tab or window with live figures"));
    }
    ++per_session_[session_key];
    ++per_user_[user_key];
    id = next_id_++;
    watchers_[id] = Watcher{exchange, session_key, user_key, nullptr};
  }
  exchange->StartEvents();
  exchange->OnClose([this, id] { Leave(id); });

  const std::string key = absl::StrCat(caller.job_centre, "\n", route.path, "\n", request);
  const std::optional<MethodRoute> check = Counterpart(transcoder_, route);
  if (!check) {
    // Not shareable: a channel of its own.
    Attach(id, absl::StrCat(key, "\n#", id), route, request, caller.metadata);
    return absl::OkStatus();
  }
  bool running;
  {
    absl::MutexLock lock(&mu_);
    auto it = channels_.find(key);
    running = it != channels_.end() && !it->second->finished;
  }
  if (!running) {
    Attach(id, key, route, request, caller.metadata);
    return absl::OkStatus();
  }
  // Someone else's call already runs: this watcher's own credential must pass first.
  transcoder_.CallBytesAsync(
      *check, request, caller.metadata,
      [this, id, key, route, request, metadata = caller.metadata,
       exchange](absl::StatusOr<std::string> reply) {
        if (!reply.ok()) {
          exchange->SendEvent(SseFrame("rpc-error", ErrorJson(reply.status())));
          exchange->EndEvents();
          return;
        }
        Attach(id, key, route, request, metadata);
      });
  return absl::OkStatus();
}

void StreamHub::Attach(uint64_t id, const std::string& key, const MethodRoute& route,
                       const std::string& request, const Metadata& metadata) {
  std::shared_ptr<Channel> start;
  {
    absl::MutexLock lock(&mu_);
    auto watcher = watchers_.find(id);
    if (watcher == watchers_.end() || shutting_down_) return;  // left meanwhile
    std::shared_ptr<Channel>& channel = channels_[key];
    if (!channel || channel->finished) {
      channel = std::make_shared<Channel>();
      channel->key = key;
      channel->route = route;
      start = channel;
    } else if (!channel->last_frame.empty()) {
      watcher->second.exchange->SendEvent(channel->last_frame);
    }
    channel->watchers.insert(id);
    watcher->second.channel = channel;
    if (start) ++live_calls_;
  }
  if (start) StartUpstream(start, request, metadata);
}

void StreamHub::StartUpstream(const std::shared_ptr<Channel>& channel, const std::string& request,
                              const Metadata& metadata) {
  std::shared_ptr<UpstreamCall> call = UpstreamCall::Start(
      *channel->route.stub, channel->route.path, request, metadata,
      [this, channel](std::string bytes) { OnMessage(channel, bytes); },
      [this, channel](absl::Status status) { OnDone(channel, status); });
  bool cancel;
  {
    absl::MutexLock lock(&mu_);
    cancel = channel->cancel_requested;
    if (!channel->finished) channel->call = call;
  }
  if (cancel) call->Cancel();
}

void StreamHub::OnMessage(const std::shared_ptr<Channel>& channel, const std::string& bytes) {
  absl::StatusOr<std::string> json = transcoder_.ReplyToJson(channel->route, bytes);
  const std::string frame =
      json.ok() ? SseFrame("", *json) : SseFrame("rpc-error", ErrorJson(json.status()));
  absl::MutexLock lock(&mu_);
  if (json.ok()) channel->last_frame = frame;
  for (uint64_t id : channel->watchers) {
    auto watcher = watchers_.find(id);
    if (watcher != watchers_.end()) watcher->second.exchange->SendEvent(frame);
  }
}

void StreamHub::OnDone(const std::shared_ptr<Channel>& channel, const absl::Status& status) {
  std::vector<std::shared_ptr<Exchange>> ended;
  bool shutting_down;
  {
    absl::MutexLock lock(&mu_);
    channel->call.reset();  // breaks the cycle call -> callback -> channel -> call
    channel->finished = true;
    auto it = channels_.find(channel->key);
    if (it != channels_.end() && it->second == channel) channels_.erase(it);
    for (uint64_t id : channel->watchers) {
      auto watcher = watchers_.find(id);
      if (watcher == watchers_.end()) continue;
      watcher->second.channel = nullptr;
      ended.push_back(watcher->second.exchange);
    }
    channel->watchers.clear();
    shutting_down = shutting_down_;
    --live_calls_;
  }
  if (shutting_down) return;  // the streams already got their final event
  const std::string frame =
      status.ok() ? SseFrame("end", "{}") : SseFrame("rpc-error", ErrorJson(status));
  for (const auto& exchange : ended) {
    exchange->SendEvent(frame);
    exchange->EndEvents();
  }
}

void StreamHub::Leave(uint64_t id) {
  std::shared_ptr<UpstreamCall> cancel;
  {
    absl::MutexLock lock(&mu_);
    auto watcher = watchers_.find(id);
    if (watcher == watchers_.end()) return;
    if (--per_session_[watcher->second.session_key] <= 0) {
      per_session_.erase(watcher->second.session_key);
    }
    if (--per_user_[watcher->second.user_key] <= 0) per_user_.erase(watcher->second.user_key);
    std::shared_ptr<Channel> channel = std::move(watcher->second.channel);
    watchers_.erase(watcher);
    if (!channel) return;
    channel->watchers.erase(id);
    if (channel->watchers.empty() && !channel->finished) {
      // The last watcher left: the upstream call ends, and the next watcher starts a new one.
      auto it = channels_.find(channel->key);
      if (it != channels_.end() && it->second == channel) channels_.erase(it);
      channel->cancel_requested = true;
      cancel = channel->call;
    }
  }
  if (cancel) cancel->Cancel();  // outside the lock: gRPC may run OnDone inline
}

void StreamHub::Shutdown(const std::string& final_frame) {
  std::vector<std::shared_ptr<Exchange>> open;
  std::vector<std::shared_ptr<UpstreamCall>> cancel;
  {
    absl::MutexLock lock(&mu_);
    if (!shutting_down_) {
      shutting_down_ = true;
      for (auto& [id, watcher] : watchers_) open.push_back(watcher.exchange);
      for (auto& [key, channel] : channels_) {
        channel->cancel_requested = true;
        if (channel->call) cancel.push_back(channel->call);
      }
    }
  }
  for (const auto& exchange : open) {
    exchange->SendEvent(final_frame);
    exchange->EndEvents();
  }
  for (const auto& call : cancel) call->Cancel();
  absl::MutexLock lock(&mu_);
  // Calls of channels whose watchers all left are cancelled already; wait for every OnDone.
  auto idle = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return live_calls_ == 0; };
  mu_.AwaitWithTimeout(absl::Condition(&idle), absl::Seconds(10));
}

// Drops the exchanges still referenced (after the transport is gone). Thread-safe.
void StreamHub::Clear() {
  absl::MutexLock lock(&mu_);
  watchers_.clear();
}

}  // namespace forecast::gateway
