/* A C program built against an installed Synod alone (tests/install/check_install.sh):
 * checks the header matches the library, then commits one entry on a one-node cluster. */
#include <stdio.h>
#include <synod.h>

static int fail(const char* what, int status) {
  fprintf(stderr, "consumer: %s: %s (%s)\n", what, synod_errstr(status), synod_last_error());
  return 1;
}

int main(void) {
  if (synod_version_number() != SYNOD_VERSION_NUMBER) {
    fprintf(stderr, "consumer: header %d, library %d\n", SYNOD_VERSION_NUMBER,
            synod_version_number());
    return 1;
  }
  synod_config* config = NULL;
  int status = synod_config_new(&config);
  if (status != SYNOD_OK) return fail("synod_config_new", status);
  synod_config_set_node_id(config, 1);
  synod_config_add_member(config, 1);
  synod_config_set_tick_interval_ms(config, 5);
  synod_node* node = NULL;
  status = synod_node_new(config, &node);
  synod_config_free(config);
  if (status != SYNOD_OK) return fail("synod_node_new", status);
  uint64_t leader = 0;
  status = synod_node_wait_for_leader(node, 1, 20000, &leader);
  synod_result result;
  if (status == SYNOD_OK) {
    status = synod_node_replicate_wait(node, 1, 1, (const uint8_t*)"installed", 9, &result);
  }
  synod_node_free(node);
  if (status != SYNOD_OK) return fail("replicate", status);
  printf("consumer: synod %s committed entry %llu\n", synod_version(),
         (unsigned long long)result.index);
  return 0;
}
