#include "endpoint_state.h"

#include <utility>

namespace synod::transport {
namespace {

// The endpoint whose handler the current thread runs, so that stop() called from a
// handler does not wait for itself.
thread_local const EndpointState* t_running_handler_of = nullptr;

template <typename Handler>
std::shared_ptr<const Handler> share(Handler handler) {
  return handler ? std::make_shared<const Handler>(std::move(handler)) : nullptr;
}

}  // namespace

// Marks the current thread as running a handler of the endpoint while it lives, without
// the lock, and counts it so that stop() can wait for it; also on an exception.
class EndpointState::Active {
 public:
  Active(EndpointState& state, std::unique_lock<std::mutex>& lock)
      : state_(state), lock_(lock), outer_(t_running_handler_of) {
    ++state_.active_;
    t_running_handler_of = &state_;
    lock_.unlock();
  }
  ~Active() {
    lock_.lock();
    t_running_handler_of = outer_;
    if (--state_.active_ == 0) state_.changed_.notify_all();
  }
  Active(const Active&) = delete;
  Active& operator=(const Active&) = delete;

 private:
  EndpointState& state_;
  std::unique_lock<std::mutex>& lock_;
  const EndpointState* outer_;
};

template <typename Call>
void EndpointState::run_handler(std::unique_lock<std::mutex>& lock, Call&& call) {
  Active active(*this, lock);
  call();
}

EndpointState::~EndpointState() {
  if (reaper_.joinable()) reaper_.join();
}

void EndpointState::set_receiver(Transport::Receiver receiver) {
  auto shared = share(std::move(receiver));
  std::lock_guard lock(mu_);
  receiver_ = std::move(shared);
}

void EndpointState::set_unreachable_handler(Transport::UnreachableHandler handler) {
  auto shared = share(std::move(handler));
  std::lock_guard lock(mu_);
  unreachable_ = std::move(shared);
}

void EndpointState::set_snapshot_status_handler(Transport::SnapshotStatusHandler handler) {
  auto shared = share(std::move(handler));
  std::lock_guard lock(mu_);
  snapshot_status_ = std::move(shared);
}

bool EndpointState::start() {
  std::lock_guard lock(mu_);
  if (running_ || stopped_) return false;
  running_ = true;
  return true;
}

bool EndpointState::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

void EndpointState::stop(const std::function<void()>& tear_down) {
  std::unique_lock lock(mu_);
  running_ = false;
  stopped_ = true;
  // Inside a handler the teardown cannot wait here: it waits for the transport's threads,
  // possibly this one.
  const bool inside_handler = t_running_handler_of == this;
  if (!teardown_started_) {
    teardown_started_ = true;
    auto finish = [this, tear_down] {
      tear_down();
      std::lock_guard done(mu_);
      torn_down_ = true;
      changed_.notify_all();
    };
    if (inside_handler) {
      // Assigned under the lock, which the teardown needs to finish: the destructor cannot
      // join a thread that is still being assigned.
      reaper_ = std::thread(finish);
    } else {
      lock.unlock();
      finish();
      lock.lock();
    }
  }
  if (inside_handler) return;
  changed_.wait(lock, [&] { return active_ == 0 && torn_down_; });
}

bool EndpointState::deliver(Batch&& batch, const std::function<void()>& admitted) {
  std::unique_lock lock(mu_);
  if (!running_) return false;
  admitted();
  if (auto handler = receiver_) {
    run_handler(lock, [&] { (*handler)(std::move(batch)); });
  }
  return true;
}

void EndpointState::report_unreachable(NodeId peer, std::vector<Envelope>&& lost) {
  std::unique_lock lock(mu_);
  if (!running_) return;
  if (auto handler = unreachable_) {
    run_handler(lock, [&] { (*handler)(peer, std::move(lost)); });
  }
}

void EndpointState::report_snapshot(NodeId peer, PartitionId partition, bool delivered) {
  std::unique_lock lock(mu_);
  if (torn_down_) return;
  if (auto handler = snapshot_status_) {
    run_handler(lock, [&] { (*handler)(peer, partition, delivered); });
  }
}

bool EndpointState::begin_answer() {
  std::lock_guard lock(mu_);
  if (!running_) return false;
  ++answers_pending_;
  return true;
}

void EndpointState::end_answer() {
  std::lock_guard lock(mu_);
  if (--answers_pending_ == 0) changed_.notify_all();
}

void EndpointState::await_answers(std::chrono::milliseconds bound) {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, bound, [&] { return answers_pending_ == 0; });
}

}  // namespace synod::transport
