/*
 * The C node of the four-language cluster (tests/polyglot/README.md has the protocol).
 *
 *   polyglot-node-c <node id> <members, comma-separated> <tick ms> <election ticks>
 *
 * Starts a node on gRPC 127.0.0.1:0 and prints "ready <port>". Commands arrive on stdin,
 * one a line, each answered by one line on stdout; a poll thread prints the committed
 * entries and the leader changes of partition 1 as they come. Log types go through
 * synod_log_type_encode / synod_log_type_decode (bindings/LOG_TYPES.md).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synod.h"

#define PARTITION 1

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* Prints one whole line on stdout, so replies and events never interleave. */
static void emit(const char* line) {
  pthread_mutex_lock(&out_lock);
  fputs(line, stdout);
  fputc('\n', stdout);
  fflush(stdout);
  pthread_mutex_unlock(&out_lock);
}

static void die(int status, const char* what) {
  fprintf(stderr, "polyglot-node-c: %s: %s (%s)\n", what, synod_errstr(status), synod_last_error());
  exit(1);
}

static void check(int status, const char* what) {
  if (status < 0) die(status, what);
}

/* `len` bytes as lowercase hex at `out` (room for 2 * len + 1), "-" for none. */
static void to_hex(const uint8_t* data, size_t len, char* out) {
  static const char digits[] = "0123456789abcdef";
  if (len == 0) {
    strcpy(out, "-");
    return;
  }
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
  out[2 * len] = '\0';
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes hex text ("-" for none) into a new buffer; -1 for bad text. */
static int from_hex(const char* text, uint8_t** out, size_t* out_len) {
  size_t n = strcmp(text, "-") == 0 ? 0 : strlen(text);
  if (n % 2 != 0) return -1;
  *out = malloc(n / 2 + 1);
  if (*out == NULL) return -1;
  for (size_t i = 0; i < n / 2; ++i) {
    int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      free(*out);
      return -1;
    }
    (*out)[i] = (uint8_t)(hi * 16 + lo);
  }
  *out_len = n / 2;
  return 0;
}

static void print_entry(const synod_event* e) {
  const char* name = NULL;
  size_t name_len = 0;
  const uint8_t* data = NULL;
  size_t len = 0;
  check(synod_log_type_decode(e->entry_type, e->data, e->len, &name, &name_len, &data, &len),
        "synod_log_type_decode");
  char* line = malloc(128 + 2 * (name_len + len));
  char* hex = malloc(2 * (name_len + len) + 2);
  if (line == NULL || hex == NULL) die(SYNOD_E_NOMEM, "malloc");
  int at =
      sprintf(line, "entry %llu %llu ", (unsigned long long)e->index, (unsigned long long)e->term);
  if (name != NULL) {
    to_hex((const uint8_t*)name, name_len, hex);
    at += sprintf(line + at, "s %s ", hex);
  } else {
    at += sprintf(line + at, "n %lu ", (unsigned long)e->entry_type);
  }
  to_hex(data, len, hex);
  strcpy(line + at, hex);
  emit(line);
  free(hex);
  free(line);
}

/* The poll thread: every event of the node until it is stopped. */
static void* poll_events(void* arg) {
  synod_node* node = arg;
  synod_event events[64];
  for (;;) {
    int n = synod_node_poll(node, events, 64, 200);
    if (n == SYNOD_E_SHUTTING_DOWN) return NULL;
    check(n, "synod_node_poll");
    for (int i = 0; i < n; ++i) {
      const synod_event* e = &events[i];
      if (e->partition != PARTITION) continue;
      if (e->type == SYNOD_EVENT_ENTRY) {
        print_entry(e);
      } else if (e->type == SYNOD_EVENT_LEADER_CHANGED) {
        char line[64];
        snprintf(line, sizeof line, "leader %llu", (unsigned long long)e->leader_hint);
        emit(line);
      }
    }
  }
}

static void reply_error(int status) {
  char line[512];
  snprintf(line, sizeof line, "error %s", synod_errstr(status));
  emit(line);
}

/* "write n <number> <hex data>" or "write s <hex name> <hex data>". */
static void write_entry(synod_node* node, const char* kind, const char* type, const char* hex) {
  uint8_t* data = NULL;
  size_t len = 0;
  if (from_hex(hex, &data, &len) != 0) {
    emit("error bad data");
    return;
  }
  uint32_t entry_type = 0;
  uint8_t* payload = data;
  size_t payload_len = len;
  if (strcmp(kind, "s") == 0) {
    uint8_t* name = NULL;
    size_t name_len = 0;
    if (from_hex(type, &name, &name_len) != 0) {
      free(data);
      emit("error bad type name");
      return;
    }
    size_t cap = len + SYNOD_LOG_TYPE_MAX_OVERHEAD;
    payload = malloc(cap);
    if (payload == NULL) die(SYNOD_E_NOMEM, "malloc");
    int status = synod_log_type_encode((const char*)name, name_len, data, len, &entry_type, payload,
                                       cap, &payload_len);
    free(name);
    free(data);
    data = NULL;
    if (status != SYNOD_OK) {
      free(payload);
      reply_error(status);
      return;
    }
  } else {
    char* end = NULL;
    unsigned long number = strtoul(type, &end, 10);
    if (*end != '\0' || number < 1 || number > SYNOD_LOG_TYPE_MAX_NUMBER) {
      free(data);
      emit("error bad number type");
      return;
    }
    entry_type = (uint32_t)number;
  }
  synod_result result;
  int status =
      synod_node_replicate_wait(node, PARTITION, entry_type, payload, payload_len, &result);
  if (payload != data) free(payload);
  free(data);
  if (status != SYNOD_OK) {
    reply_error(status);
    return;
  }
  char line[64];
  snprintf(line, sizeof line, "ok %llu", (unsigned long long)result.index);
  emit(line);
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s <node id> <members> <tick ms> <election ticks>\n", argv[0]);
    return 2;
  }
  synod_config* config = NULL;
  check(synod_config_new(&config), "synod_config_new");
  check(synod_config_set_node_id(config, strtoull(argv[1], NULL, 10)), "node id");
  char* members = argv[2];
  for (char* m = strtok(members, ","); m != NULL; m = strtok(NULL, ",")) {
    check(synod_config_add_member(config, strtoull(m, NULL, 10)), "member");
  }
  check(synod_config_set_tick_interval_ms(config, (uint32_t)strtoul(argv[3], NULL, 10)), "tick");
  check(synod_config_set_election_ticks(config, (uint32_t)strtoul(argv[4], NULL, 10)),
        "election ticks");
  check(synod_config_set_grpc(config, "127.0.0.1:0"), "grpc");
  synod_node* node = NULL;
  check(synod_node_new(config, &node), "synod_node_new");
  synod_config_free(config);
  int port = 0;
  check(synod_node_listen_port(node, &port), "listen port");
  pthread_t poller;
  if (pthread_create(&poller, NULL, poll_events, node) != 0) die(SYNOD_E_INTERNAL, "thread");
  char ready[32];
  snprintf(ready, sizeof ready, "ready %d", port);
  emit(ready);

  char* line = NULL;
  size_t cap = 0;
  ssize_t got;
  while ((got = getline(&line, &cap, stdin)) > 0) {
    line[strcspn(line, "\r\n")] = '\0';
    char* words[4] = {NULL, NULL, NULL, NULL};
    int count = 0;
    for (char* w = strtok(line, " "); w != NULL && count < 4; w = strtok(NULL, " ")) {
      words[count++] = w;
    }
    if (count == 0) continue;
    if (strcmp(words[0], "quit") == 0) {
      break;
    } else if (strcmp(words[0], "peer") == 0 && count == 3) {
      int status = synod_node_set_peer_address(node, strtoull(words[1], NULL, 10), words[2]);
      status == SYNOD_OK ? emit("ok") : reply_error(status);
    } else if (strcmp(words[0], "transfer") == 0 && count == 2) {
      int status = synod_node_transfer_leadership(node, PARTITION, strtoull(words[1], NULL, 10));
      status == SYNOD_OK ? emit("ok") : reply_error(status);
    } else if (strcmp(words[0], "write") == 0 && count == 4) {
      write_entry(node, words[1], words[2], words[3]);
    } else {
      emit("error unknown command");
    }
  }
  free(line);
  /* Stop, let the poll thread drain what is left and see SHUTTING_DOWN, then free. */
  check(synod_node_stop(node), "synod_node_stop");
  pthread_join(poller, NULL);
  synod_node_free(node);
  emit("ok");
  return 0;
}
