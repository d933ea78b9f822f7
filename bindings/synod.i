/*
 * synod.i: the SWIG interface over Synod's C ABI (synod.h), from which the Java binding's
 * JNI layer is generated (module SynodNative, package io.synod.internal).
 *
 * It stays small and handle-based, so SWIG emits only the module's own classes and no
 * SWIGTYPE_p_* wrappers: every handle crosses as a Java long (the pointer), out-parameters
 * as arrays of length 1, byte inputs as byte[]. The event and batch structs, whose
 * pointers and lent payloads Java cannot hold, are reached through the few synod_j_*
 * helpers below, which call only synod.h. The idiomatic layer (java/src/io/synod) is the
 * only user of the generated classes.
 */
%module SynodNative

%{
#include <stdlib.h>
#include <string.h>

#include "synod.h"
%}

/* The native libraries come from the jar, loaded before the first native call. */
%pragma(java) jniclasscode=%{
  static {
    NativeLibrary.load();
  }
%}

/* Enums and #define constants become compile-time int constants of SynodNativeConstants.
 * The status codes are not among them: io.synod.Status is generated from the status table. */
%include "enumsimple.swg"
%javaconst(1);
%include "typemaps.i"

/* Ids, indexes, terms and tags are uint64_t: a Java long of the same bits (the Java layer
 * treats them as unsigned). 32-bit values are a Java int of the same bits. */
%apply long long { uint64_t };
%apply int { uint32_t, int32_t };

/* Opaque handles: the pointer as a Java long; out-handles: a long[1] the call fills. */
%define SYNOD_HANDLE(TYPE)
%typemap(jni) TYPE*, const TYPE* "jlong"
%typemap(jtype) TYPE*, const TYPE* "long"
%typemap(jstype) TYPE*, const TYPE* "long"
%typemap(javain) TYPE*, const TYPE* "$javainput"
%typemap(javaout) TYPE*, const TYPE* { return $jnicall; }
%typemap(in) TYPE*, const TYPE* %{ $1 = ($1_ltype)(intptr_t)$input; %}
%typemap(out) TYPE*, const TYPE* %{ $result = (jlong)(intptr_t)$1; %}
%typemap(jni) TYPE** "jlongArray"
%typemap(jtype) TYPE** "long[]"
%typemap(jstype) TYPE** "long[]"
%typemap(javain) TYPE** "$javainput"
%typemap(in) TYPE** (TYPE* handle = NULL) %{
  if (!$input || JCALL1(GetArrayLength, jenv, $input) < 1) {
    SWIG_JavaThrowException(jenv, SWIG_JavaIllegalArgumentException, "a long[1] is needed");
    return $null;
  }
  $1 = &handle;
%}
%typemap(argout) TYPE** %{
  {
    jlong value = (jlong)(intptr_t)handle$argnum;
    JCALL4(SetLongArrayRegion, jenv, $input, 0, 1, &value);
  }
%}
%enddef

SYNOD_HANDLE(synod_network)
SYNOD_HANDLE(synod_config)
SYNOD_HANDLE(synod_node)
SYNOD_HANDLE(synod_event)

/* Scalar out-parameters: an array of length 1. */
%apply long long *OUTPUT { uint64_t* out_leader, uint64_t* out_id };
%apply long long *OUTPUT { uint64_t* out_partition, uint64_t* out_generation, uint64_t* out_hash };
%apply int *OUTPUT { int* out_is_leader, int* out_fd, int* out_port, int* out_state };
%apply unsigned long *OUTPUT { size_t* out_count };

/* Byte inputs (copied by the library before the call returns) and outputs: byte[]. */
%apply (const char *STRING, size_t LENGTH) { (const uint8_t* data, size_t len) };
%apply (const char *STRING, size_t LENGTH) { (const uint8_t* secret, size_t len) };
%apply (const char *STRING, size_t LENGTH) { (const uint8_t* key, size_t len) };
%apply (char *STRING, size_t LENGTH) { (uint8_t* out, size_t out_len) };

/* A long[] read and written in place by the synod_j_* helpers. */
%typemap(jni) (int64_t* longs, size_t longs_len) "jlongArray"
%typemap(jtype) (int64_t* longs, size_t longs_len) "long[]"
%typemap(jstype) (int64_t* longs, size_t longs_len) "long[]"
%typemap(javain) (int64_t* longs, size_t longs_len) "$javainput"
%typemap(in) (int64_t* longs, size_t longs_len) {
  if (!$input) {
    SWIG_JavaThrowException(jenv, SWIG_JavaNullPointerException, "null long[]");
    return $null;
  }
  $2 = (size_t)JCALL1(GetArrayLength, jenv, $input);
  $1 = (int64_t*)JCALL2(GetLongArrayElements, jenv, $input, NULL);
  if (!$1) return $null;
}
%typemap(argout) (int64_t* longs, size_t longs_len) {
  JCALL3(ReleaseLongArrayElements, jenv, $input, (jlong*)$1, 0);
}

/* Reached through the helpers below, or not offered to Java (the blocking *_wait forms:
 * the Java layer has futures). */
%ignore synod_event;
%ignore synod_entry;
%ignore synod_result;
%ignore synod_node_poll;
%ignore synod_node_replicate_batch;
%ignore synod_node_replicate_wait;
%ignore synod_node_read_index_wait;
%ignore synod_node_partitions;
%ignore synod_node_status_json;
%ignore synod_node_metrics_text;
%ignore synod_node_metrics_json;
%ignore synod_node_partition_map_json;
%ignore synod_free;
/* The Java layer encodes log types itself (io.synod.LogType), to the same vectors. */
%ignore synod_log_type_encode;
%ignore synod_log_type_decode;
%ignore SYNOD_LOG_TYPE_MAX_NUMBER;
%ignore SYNOD_LOG_TYPE_STRING_FLAG;
%ignore SYNOD_LOG_TYPE_MAX_STRING;
%ignore SYNOD_LOG_TYPE_MAX_OVERHEAD;

/* The JSON buffer is the library's: SWIG copies it into a String, then frees it. */
%newobject synod_j_status_json;
%newobject synod_j_metrics_text;
%newobject synod_j_metrics_json;
%newobject synod_j_partition_map_json;
%typemap(newfree) char* "synod_free($1);";

%include "synod.h"

%inline %{
/* The fixed fields of one polled event, in this order, as synod_j_poll writes them. */
enum {
  SYNOD_J_TYPE,
  SYNOD_J_STATUS,
  SYNOD_J_PARTITION,
  SYNOD_J_TAG,
  SYNOD_J_INDEX,
  SYNOD_J_TERM,
  SYNOD_J_LEADER_HINT,
  SYNOD_J_ENTRY_TYPE,
  SYNOD_J_BATCH_POSITION,
  SYNOD_J_LEN,
  SYNOD_J_EVENT_FIELDS
};

/* A buffer for `max` events, freed with synod_j_events_free; NULL when out of memory. */
synod_event* synod_j_events_new(size_t max) {
  return (synod_event*)calloc(max, sizeof(synod_event));
}

void synod_j_events_free(synod_event* events) { free(events); }

/* synod_node_poll into `events` (room for `max`), then each polled event's fixed fields
 * into `longs`, SYNOD_J_EVENT_FIELDS per event. Returns what synod_node_poll returned.
 * Payloads stay in `events` until the next poll: synod_j_event_data copies them. */
int synod_j_poll(synod_node* node, synod_event* events, size_t max, int timeout_ms,
                 int64_t* longs, size_t longs_len) {
  if (events == NULL || longs_len < max * SYNOD_J_EVENT_FIELDS) {
    return SYNOD_E_INVALID_ARGUMENT;
  }
  int count = synod_node_poll(node, events, max, timeout_ms);
  for (int i = 0; i < count; i++) {
    const synod_event* e = &events[i];
    int64_t* f = longs + (size_t)i * SYNOD_J_EVENT_FIELDS;
    f[SYNOD_J_TYPE] = e->type;
    f[SYNOD_J_STATUS] = e->status;
    f[SYNOD_J_PARTITION] = (int64_t)e->partition;
    f[SYNOD_J_TAG] = (int64_t)e->tag;
    f[SYNOD_J_INDEX] = (int64_t)e->index;
    f[SYNOD_J_TERM] = (int64_t)e->term;
    f[SYNOD_J_LEADER_HINT] = (int64_t)e->leader_hint;
    f[SYNOD_J_ENTRY_TYPE] = e->entry_type;
    f[SYNOD_J_BATCH_POSITION] = e->batch_position;
    f[SYNOD_J_LEN] = (int64_t)e->len;
  }
  return count;
}

/* Copies the payload of polled event `i` into `out`, which must be exactly its length. */
int synod_j_event_data(const synod_event* events, size_t i, uint8_t* out, size_t out_len) {
  if (events == NULL || out_len != events[i].len) {
    return SYNOD_E_INVALID_ARGUMENT;
  }
  if (out_len > 0) {
    memcpy(out, events[i].data, out_len);
  }
  return SYNOD_OK;
}

/* synod_node_replicate_batch over entries laid end to end in `data`: entry k has type
 * longs[2k] and ends at offset longs[2k + 1] of `data`. */
int synod_j_replicate_batch(synod_node* node, uint64_t partition, const uint8_t* data,
                            size_t len, int64_t* longs, size_t longs_len, uint64_t tag) {
  size_t count = longs_len / 2;
  if (longs_len % 2 != 0 || count == 0) {
    return SYNOD_E_INVALID_ARGUMENT;
  }
  synod_entry* entries = (synod_entry*)calloc(count, sizeof(synod_entry));
  if (entries == NULL) {
    return SYNOD_E_NOMEM;
  }
  size_t start = 0;
  int status = SYNOD_OK;
  for (size_t k = 0; k < count && status == SYNOD_OK; k++) {
    size_t end = (size_t)longs[2 * k + 1];
    if (longs[2 * k + 1] < 0 || end < start || end > len || longs[2 * k] < 0 ||
        longs[2 * k] > UINT32_MAX) {
      status = SYNOD_E_INVALID_ARGUMENT;
      break;
    }
    entries[k].type = (uint32_t)longs[2 * k];
    entries[k].data = data + start;
    entries[k].len = end - start;
    start = end;
  }
  if (status == SYNOD_OK) {
    status = synod_node_replicate_batch(node, partition, entries, count, tag);
  }
  free(entries);
  return status;
}

/* The partitions the node hosts, written to `longs` (at most its length); *out_count
 * receives the total, so a caller can ask again with a larger array. */
int synod_j_partitions(synod_node* node, int64_t* longs, size_t longs_len, size_t* out_count) {
  return synod_node_partitions(node, (uint64_t*)longs, longs_len, out_count);
}

/* synod_node_status_json as a Java String (NULL on failure: synod_last_error says why). */
char* synod_j_status_json(synod_node* node) {
  char* json = NULL;
  return synod_node_status_json(node, &json, NULL) == SYNOD_OK ? json : NULL;
}

/* synod_node_metrics_text (Prometheus text) as a Java String (NULL on failure). */
char* synod_j_metrics_text(synod_node* node) {
  char* text = NULL;
  return synod_node_metrics_text(node, &text, NULL) == SYNOD_OK ? text : NULL;
}

/* synod_node_metrics_json as a Java String (NULL on failure). */
char* synod_j_metrics_json(synod_node* node) {
  char* json = NULL;
  return synod_node_metrics_json(node, &json, NULL) == SYNOD_OK ? json : NULL;
}

/* synod_node_partition_map_json as a Java String (NULL on failure). */
char* synod_j_partition_map_json(synod_node* node) {
  char* json = NULL;
  return synod_node_partition_map_json(node, &json, NULL) == SYNOD_OK ? json : NULL;
}
%}
