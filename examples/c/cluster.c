/*
 * A three-node cluster in one process, through the C ABI alone.
 *
 * The nodes share an in-process network. The program waits for a leader, replicates a
 * few commands, shows every node applying them, isolates the leader,
 * waits for a new one, writes again, and exits 0 once every node holds every write.
 *
 *   build/examples/c/synod-c-cluster
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synod.h"

#define NODES 3
#define WRITES 5
#define PARTITION 1
#define ENTRY_TYPE 1

/* Prints the failure and exits: an example keeps error handling short but never
 * ignores a status. */
static void check(int status, const char* what) {
  if (status < 0) {
    fprintf(stderr, "%s: %s (%s)\n", what, synod_errstr(status), synod_last_error());
    exit(1);
  }
}

/* How many entries each node has applied. */
static int applied[NODES];

/* Drains a node's events, printing what it applies. */
static void drain(synod_node* node, int slot) {
  synod_event events[32];
  int n;
  while ((n = synod_node_poll(node, events, 32, 0)) > 0) {
    for (int i = 0; i < n; ++i) {
      const synod_event* e = &events[i];
      if (e->type == SYNOD_EVENT_ENTRY) {
        ++applied[slot];
        printf("  node %d applied #%llu: %.*s\n", slot + 1, (unsigned long long)e->index,
               (int)e->len, (const char*)e->data);
      } else if (e->type == SYNOD_EVENT_LEADER_CHANGED && e->partition == PARTITION) {
        printf("  node %d sees leader %llu (term %llu)\n", slot + 1,
               (unsigned long long)e->leader_hint, (unsigned long long)e->term);
      }
    }
  }
  check(n, "synod_node_poll");
}

static void drain_all(synod_node* nodes[NODES]) {
  for (int i = 0; i < NODES; ++i) drain(nodes[i], i);
}

/* Replicates one command on `leader`, retrying while leadership settles; node slot
 * `observer` tells who leads after a refusal. */
static void write_command(synod_node* nodes[NODES], uint64_t leader, int observer,
                          const char* text) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    synod_result result;
    int status = synod_node_replicate_wait(nodes[leader - 1], PARTITION, ENTRY_TYPE,
                                           (const uint8_t*)text, strlen(text), &result);
    if (status == SYNOD_OK) {
      printf("committed \"%s\" at index %llu, term %llu\n", text,
             (unsigned long long)result.index, (unsigned long long)result.term);
      return;
    }
    if (status != SYNOD_E_NOT_LEADER && status != SYNOD_E_NO_LEADER) check(status, "replicate");
    check(synod_node_wait_for_leader(nodes[observer], PARTITION, 5000, &leader),
          "wait for leader");
  }
  fprintf(stderr, "no write committed\n");
  exit(1);
}

/* Waits until every node applied `count` entries: polls a lagging node with a short
 * timeout, so the loop sleeps in the library instead of spinning. Bounded. */
static void await_applied(synod_node* nodes[NODES], int count) {
  for (int round = 0; round < 2000; ++round) {
    drain_all(nodes);
    int lagging = -1;
    for (int i = 0; i < NODES && lagging < 0; ++i) {
      if (applied[i] < count) lagging = i;
    }
    if (lagging < 0) return;
    size_t pending = 0;
    check(synod_node_pending_events(nodes[lagging], &pending), "pending events");
    if (pending == 0) {
      synod_event e[1];
      int n = synod_node_poll(nodes[lagging], e, 1, 20);
      check(n, "synod_node_poll");
      if (n == 1 && e[0].type == SYNOD_EVENT_ENTRY) {
        ++applied[lagging];
        printf("  node %d applied #%llu: %.*s\n", lagging + 1, (unsigned long long)e[0].index,
               (int)e[0].len, (const char*)e[0].data);
      }
    }
  }
  fprintf(stderr, "the nodes did not all apply %d entries\n", count);
  exit(1);
}

int main(void) {
  /* Line-buffered, so the progress interleaves sensibly with errors on stderr. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("synod %s\n", synod_version());
  synod_network* network = NULL;
  check(synod_network_new(&network), "synod_network_new");

  synod_node* nodes[NODES];
  for (int i = 0; i < NODES; ++i) {
    synod_config* config = NULL;
    check(synod_config_new(&config), "synod_config_new");
    check(synod_config_set_node_id(config, (uint64_t)(i + 1)), "node id");
    for (uint64_t m = 1; m <= NODES; ++m) check(synod_config_add_member(config, m), "member");
    check(synod_config_set_network(config, network), "network");
    check(synod_node_new(config, &nodes[i]), "synod_node_new");
    synod_config_free(config);
  }
  uint64_t leader = 0;
  check(synod_node_wait_for_leader(nodes[0], PARTITION, 10000, &leader), "wait for leader");
  printf("node %llu leads partition %d\n", (unsigned long long)leader, PARTITION);

  char text[64];
  for (int i = 0; i < WRITES; ++i) {
    snprintf(text, sizeof text, "set x = %d", i);
    write_command(nodes, leader, 0, text);
  }
  await_applied(nodes, WRITES);

  /* Cut the leader off: the others elect a new leader among themselves and go on. */
  printf("isolating node %llu\n", (unsigned long long)leader);
  check(synod_network_isolate(network, leader), "isolate");
  const uint64_t old_leader = leader;
  const int survivor = old_leader == 1 ? 1 : 0;
  for (int round = 0; round < 1000 && (leader == old_leader || leader == 0); ++round) {
    /* Sleep in the library until the survivor has news (a leader change), at most 20 ms. */
    synod_event e[1];
    const int n = synod_node_poll(nodes[survivor], e, 1, 20);
    check(n, "synod_node_poll");
    if (n == 1 && e[0].type == SYNOD_EVENT_ENTRY) ++applied[survivor];
    check(synod_node_leader(nodes[survivor], PARTITION, &leader), "leader");
  }
  if (leader == old_leader) {
    fprintf(stderr, "no new leader\n");
    return 1;
  }
  printf("node %llu leads partition %d now\n", (unsigned long long)leader, PARTITION);
  write_command(nodes, leader, survivor, "set x = after failover");

  /* Heal: the old leader rejoins as a follower and catches up. */
  check(synod_network_heal(network), "heal");
  await_applied(nodes, WRITES + 1);
  printf("every node applied all %d writes\n", WRITES + 1);

  for (int i = 0; i < NODES; ++i) synod_node_free(nodes[i]);
  /* The nodes kept the network alive until here. */
  synod_network_free(network);
  return 0;
}
