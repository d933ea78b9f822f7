#include "event_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <system_error>

namespace synod::capi {

EventQueue::EventQueue() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

EventQueue::~EventQueue() { ::close(fd_); }

void EventQueue::signal_locked(bool readable) {
  if (readable == fd_readable_) return;
  std::uint64_t value = 1;
  // The counter only ever holds 0 or 1, so neither call can block or overflow.
  if (readable) {
    [[maybe_unused]] const auto n = ::write(fd_, &value, sizeof value);
  } else {
    [[maybe_unused]] const auto n = ::read(fd_, &value, sizeof value);
  }
  fd_readable_ = readable;
}

void EventQueue::bound(std::size_t capacity, PressureHandler on_pressure) {
  std::lock_guard lock(mu_);
  capacity_ = capacity;
  on_pressure_ = std::move(on_pressure);
}

bool EventQueue::has_room() const {
  std::lock_guard lock(mu_);
  return !under_pressure_;
}

void EventQueue::push(const synod_event& event, raft::Bytes payload) {
  bool filled = false;
  {
    std::lock_guard lock(mu_);
    queue_.push_back({event, std::move(payload)});
    signal_locked(true);
    if (!under_pressure_ && queue_.size() >= capacity_) filled = under_pressure_ = true;
  }
  ready_.notify_one();
  if (filled && on_pressure_) on_pressure_(true);
}

void EventQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    // Readable too when stopped, so a host waiting on the fd learns it should poll once
    // more and see SYNOD_E_SHUTTING_DOWN.
    signal_locked(true);
  }
  ready_.notify_all();
}

int EventQueue::poll(synod_event* events, std::size_t max, int timeout_ms) {
  std::unique_lock lock(mu_);
  lent_.clear();
  auto has_work = [&] { return !queue_.empty() || closed_; };
  if (timeout_ms < 0) {
    ready_.wait(lock, has_work);
  } else if (timeout_ms > 0) {
    ready_.wait_for(lock, std::chrono::milliseconds(timeout_ms), has_work);
  }
  if (queue_.empty()) return closed_ ? SYNOD_E_SHUTTING_DOWN : 0;
  std::size_t count = 0;
  while (count < max && !queue_.empty()) {
    Queued& q = queue_.front();
    synod_event& out = events[count++];
    out = q.event;
    out.data = q.payload.empty() ? nullptr : q.payload.span().data();
    out.len = q.payload.size();
    lent_.push_back(std::move(q.payload));
    queue_.pop_front();
  }
  signal_locked(!queue_.empty() || closed_);
  const bool relieved = under_pressure_ && queue_.size() <= capacity_ / 2;
  if (relieved) under_pressure_ = false;
  lock.unlock();
  if (relieved && on_pressure_) on_pressure_(false);
  return static_cast<int>(count);
}

std::size_t EventQueue::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace synod::capi
