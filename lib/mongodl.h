/*
 * mongodl.h: libmongoc for the MongoDB index, loaded only when used.
 *
 * The dynamic build (XT_MONGO_DLOPEN) does not link libmongoc: linked,
 * it initializes itself in every process of every tool, each leaving a
 * shared-memory file /dev/shm/mongoc-PID behind when killed. It is loaded
 * by mongodl_load, with MONGOC_DISABLE_SHM set first, and each function
 * of it xt calls is reached through a pointer of the same name (the
 * macros below): code written against <mongoc/mongoc.h> reads as usual.
 * The static build calls it directly (built without those counters).
 *
 * A function newly called must be added to MONGODL_FNS, with its macro.
 */
#ifndef XT_MONGODL_H
#define XT_MONGODL_H

#include <stddef.h>
#include <mongoc/mongoc.h>

/*
 * Load libmongoc and call mongoc_init, once per process; thread-safe.
 * 0, or -1 with err set to why it cannot be loaded.
 */
int mongodl_load(char *err, size_t errlen);

#ifdef XT_MONGO_DLOPEN
#define MONGODL_FNS(X) \
	X(bcon_new) X(bson_bcon_magic) X(bson_append_array_begin) X(bson_append_array_end) \
	X(bson_append_bool) X(bson_append_document_begin) X(bson_append_document_end) \
	X(bson_append_int32) X(bson_append_utf8) X(bson_copy_to_excluding_noinit) \
	X(bson_destroy) X(bson_init) X(bson_iter_init_find) X(bson_iter_type) \
	X(bson_iter_utf8) X(bson_new_from_json) X(bson_iter_init) X(bson_iter_next) \
	X(bson_iter_key) X(bson_iter_double) X(bson_iter_int32) X(bson_iter_int64) \
	X(bson_iter_bool) X(bson_iter_recurse) X(mongoc_collection_find_with_opts) \
	X(mongoc_cursor_next) X(mongoc_cursor_error) X(mongoc_cursor_destroy) \
	X(mongoc_bulk_operation_destroy) X(mongoc_bulk_operation_execute) \
	X(mongoc_bulk_operation_replace_one_with_opts) X(mongoc_cleanup) \
	X(mongoc_client_command_simple) X(mongoc_client_destroy) \
	X(mongoc_client_get_collection) X(mongoc_client_new_from_uri_with_error) \
	X(mongoc_client_set_appname) X(mongoc_client_set_error_api) \
	X(mongoc_collection_count_documents) \
	X(mongoc_collection_create_bulk_operation_with_opts) X(mongoc_collection_destroy) \
	X(mongoc_collection_write_command_with_opts) X(mongoc_init) X(mongoc_log_set_handler) \
	X(mongoc_uri_destroy) X(mongoc_uri_get_database) X(mongoc_uri_get_password) \
	X(mongoc_uri_has_option) X(mongoc_uri_new_with_error) \
	X(mongoc_uri_set_option_as_int32) X(mongoc_uri_set_password)

#define MONGODL_DECLARE(f) extern __typeof__(f) *mongodl_##f;
MONGODL_FNS(MONGODL_DECLARE)
#undef MONGODL_DECLARE

#define bcon_new (*mongodl_bcon_new)
#define bson_bcon_magic (*mongodl_bson_bcon_magic)
#define bson_append_array_begin (*mongodl_bson_append_array_begin)
#define bson_append_array_end (*mongodl_bson_append_array_end)
#define bson_append_bool (*mongodl_bson_append_bool)
#define bson_append_document_begin (*mongodl_bson_append_document_begin)
#define bson_append_document_end (*mongodl_bson_append_document_end)
#define bson_append_int32 (*mongodl_bson_append_int32)
#define bson_append_utf8 (*mongodl_bson_append_utf8)
#define bson_copy_to_excluding_noinit (*mongodl_bson_copy_to_excluding_noinit)
#define bson_destroy (*mongodl_bson_destroy)
#define bson_init (*mongodl_bson_init)
#define bson_iter_init_find (*mongodl_bson_iter_init_find)
#define bson_iter_type (*mongodl_bson_iter_type)
#define bson_iter_utf8 (*mongodl_bson_iter_utf8)
#define bson_new_from_json (*mongodl_bson_new_from_json)
#define bson_iter_init (*mongodl_bson_iter_init)
#define bson_iter_next (*mongodl_bson_iter_next)
#define bson_iter_key (*mongodl_bson_iter_key)
#define bson_iter_double (*mongodl_bson_iter_double)
#define bson_iter_int32 (*mongodl_bson_iter_int32)
#define bson_iter_int64 (*mongodl_bson_iter_int64)
#define bson_iter_bool (*mongodl_bson_iter_bool)
#define bson_iter_recurse (*mongodl_bson_iter_recurse)
#define mongoc_collection_find_with_opts (*mongodl_mongoc_collection_find_with_opts)
#define mongoc_cursor_next (*mongodl_mongoc_cursor_next)
#define mongoc_cursor_error (*mongodl_mongoc_cursor_error)
#define mongoc_cursor_destroy (*mongodl_mongoc_cursor_destroy)
#define mongoc_bulk_operation_destroy (*mongodl_mongoc_bulk_operation_destroy)
#define mongoc_bulk_operation_execute (*mongodl_mongoc_bulk_operation_execute)
#define mongoc_bulk_operation_replace_one_with_opts \
	(*mongodl_mongoc_bulk_operation_replace_one_with_opts)
#define mongoc_cleanup (*mongodl_mongoc_cleanup)
#define mongoc_client_command_simple (*mongodl_mongoc_client_command_simple)
#define mongoc_client_destroy (*mongodl_mongoc_client_destroy)
#define mongoc_client_get_collection (*mongodl_mongoc_client_get_collection)
#define mongoc_client_new_from_uri_with_error (*mongodl_mongoc_client_new_from_uri_with_error)
#define mongoc_client_set_appname (*mongodl_mongoc_client_set_appname)
#define mongoc_client_set_error_api (*mongodl_mongoc_client_set_error_api)
#define mongoc_collection_count_documents (*mongodl_mongoc_collection_count_documents)
#define mongoc_collection_create_bulk_operation_with_opts \
	(*mongodl_mongoc_collection_create_bulk_operation_with_opts)
#define mongoc_collection_destroy (*mongodl_mongoc_collection_destroy)
#define mongoc_collection_write_command_with_opts \
	(*mongodl_mongoc_collection_write_command_with_opts)
#define mongoc_init (*mongodl_mongoc_init)
#define mongoc_log_set_handler (*mongodl_mongoc_log_set_handler)
#define mongoc_uri_destroy (*mongodl_mongoc_uri_destroy)
#define mongoc_uri_get_database (*mongodl_mongoc_uri_get_database)
#define mongoc_uri_get_password (*mongodl_mongoc_uri_get_password)
#define mongoc_uri_has_option (*mongodl_mongoc_uri_has_option)
#define mongoc_uri_new_with_error (*mongodl_mongoc_uri_new_with_error)
#define mongoc_uri_set_option_as_int32 (*mongodl_mongoc_uri_set_option_as_int32)
#define mongoc_uri_set_password (*mongodl_mongoc_uri_set_password)
#endif

#endif
