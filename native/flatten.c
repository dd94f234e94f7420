/*
 * ccx_flatten: parse a source string with a tree-sitter grammar and return the whole syntax
 * tree as flat int32 arrays, in one call.
 *
 * Why: reading a tree node by node through node-tree-sitter's TreeCursor costs one N-API call
 * per property, about six per node, which costs more than the parse itself (docs/benchmarks.md).
 * Here the walk happens in C and JavaScript receives a single ArrayBuffer. The grammar comes
 * from the grammar package's own prebuilt binding (its `language` External, a TSLanguage*);
 * the tree-sitter runtime is compiled from the sources node-tree-sitter vendors, so both agree
 * on the ABI. The tree is deleted before returning: no native memory outlives the call.
 *
 * Layout of the result (N nodes in pre-order, node 0 the root), N int32 per column:
 *   type, field, start, end, parent, firstChild, nextSibling, flags
 * start/end are UTF-16 code-unit offsets into the string (the parse runs on UTF-16, as
 * node-tree-sitter's does). flags: 1 named, 2 missing, 4 extra, 8 error. -1 means none.
 * The header, before the columns: [N, maxDepth, hasError, 0].
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>
#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#endif

#define COLUMNS 8
#define HEADER 4

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "ccx_flatten: N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static const TSLanguage *get_language(napi_env env, napi_value value) {
  void *data = NULL;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external) return NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return (const TSLanguage *)data;
}

/* flatten(language: External<TSLanguage>, text: string): ArrayBuffer */
static napi_value flatten(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "flatten(language, text) takes two arguments");
    return NULL;
  }
  const TSLanguage *language = get_language(env, argv[0]);
  if (language == NULL) {
    napi_throw_type_error(env, NULL, "flatten: the first argument is not a tree-sitter language");
    return NULL;
  }
  size_t length = 0;
  CHECK(napi_get_value_string_utf16(env, argv[1], NULL, 0, &length));
  char16_t *text = malloc((length + 1) * sizeof(char16_t));
  if (text == NULL) {
    napi_throw_error(env, NULL, "flatten: out of memory");
    return NULL;
  }
  CHECK(napi_get_value_string_utf16(env, argv[1], text, length + 1, &length));

  TSParser *parser = ts_parser_new();
  if (!ts_parser_set_language(parser, language)) {
    ts_parser_delete(parser);
    free(text);
    napi_throw_error(env, NULL, "flatten: the grammar's ABI version is not supported by this tree-sitter runtime");
    return NULL;
  }
  TSTree *tree = ts_parser_parse_string_encoding(parser, NULL, (const char *)text,
                                                 (uint32_t)(length * sizeof(char16_t)), TSInputEncodingUTF16LE);
  free(text);
  ts_parser_delete(parser);
  if (tree == NULL) {
    napi_throw_error(env, NULL, "flatten: tree-sitter returned no tree");
    return NULL;
  }
  TSNode root = ts_tree_root_node(tree);
  uint32_t count = ts_node_descendant_count(root);

  napi_value buffer;
  void *raw = NULL;
  CHECK(napi_create_arraybuffer(env, ((size_t)HEADER + (size_t)COLUMNS * count) * sizeof(int32_t), &raw, &buffer));
  int32_t *out = (int32_t *)raw;
  int32_t *type = out + HEADER;
  int32_t *field = type + count;
  int32_t *start = field + count;
  int32_t *end = start + count;
  int32_t *parent = end + count;
  int32_t *first_child = parent + count;
  int32_t *next_sibling = first_child + count;
  int32_t *flags = next_sibling + count;

  /* Per depth: the last child appended under the open node at that depth. */
  uint32_t stack_capacity = 256;
  int32_t *last_child = malloc(stack_capacity * sizeof(int32_t));
  int32_t *open = malloc(stack_capacity * sizeof(int32_t));
  TSTreeCursor cursor = ts_tree_cursor_new(root);
  uint32_t n = 0;
  uint32_t depth = 0;
  uint32_t max_depth = 0;
  for (;;) {
    if (n >= count) break; /* defensive: never write past the columns */
    TSNode node = ts_tree_cursor_current_node(&cursor);
    uint32_t i = n++;
    type[i] = ts_node_symbol(node);
    field[i] = ts_tree_cursor_current_field_id(&cursor);
    start[i] = (int32_t)(ts_node_start_byte(node) / sizeof(char16_t));
    end[i] = (int32_t)(ts_node_end_byte(node) / sizeof(char16_t));
    first_child[i] = -1;
    next_sibling[i] = -1;
    flags[i] = (ts_node_is_named(node) ? 1 : 0) | (ts_node_is_missing(node) ? 2 : 0) |
               (ts_node_is_extra(node) ? 4 : 0) | (ts_node_is_error(node) ? 8 : 0);
    if (depth == 0) {
      parent[i] = -1;
    } else {
      int32_t p = open[depth - 1];
      parent[i] = p;
      if (last_child[depth - 1] == -1) first_child[p] = (int32_t)i;
      else next_sibling[last_child[depth - 1]] = (int32_t)i;
      last_child[depth - 1] = (int32_t)i;
    }
    if (ts_tree_cursor_goto_first_child(&cursor)) {
      if (depth + 1 >= stack_capacity) {
        stack_capacity *= 2;
        last_child = realloc(last_child, stack_capacity * sizeof(int32_t));
        open = realloc(open, stack_capacity * sizeof(int32_t));
      }
      open[depth] = (int32_t)i;
      last_child[depth] = -1;
      depth++;
      if (depth > max_depth) max_depth = depth;
      continue;
    }
    int done = 0;
    while (!ts_tree_cursor_goto_next_sibling(&cursor)) {
      if (!ts_tree_cursor_goto_parent(&cursor)) {
        done = 1;
        break;
      }
      depth--;
    }
    if (done) break;
  }
  out[0] = (int32_t)n;
  out[1] = (int32_t)max_depth;
  out[2] = ts_node_has_error(root) ? 1 : 0;
  out[3] = 0;
  ts_tree_cursor_delete(&cursor);
  free(last_child);
  free(open);
  ts_tree_delete(tree);
  return buffer;
}

/* symbols(language): { names: string[], named: boolean[], fields: string[] } indexed by id */
static napi_value symbols(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const TSLanguage *language = argc < 1 ? NULL : get_language(env, argv[0]);
  if (language == NULL) {
    napi_throw_type_error(env, NULL, "symbols: the argument is not a tree-sitter language");
    return NULL;
  }
  napi_value result, names, named, fields;
  CHECK(napi_create_object(env, &result));
  uint32_t symbol_count = ts_language_symbol_count(language);
  CHECK(napi_create_array_with_length(env, symbol_count, &names));
  CHECK(napi_create_array_with_length(env, symbol_count, &named));
  for (uint32_t s = 0; s < symbol_count; s++) {
    const char *name = ts_language_symbol_name(language, (TSSymbol)s);
    napi_value v, b;
    CHECK(napi_create_string_utf8(env, name == NULL ? "" : name, NAPI_AUTO_LENGTH, &v));
    CHECK(napi_get_boolean(env, ts_language_symbol_type(language, (TSSymbol)s) == TSSymbolTypeRegular, &b));
    CHECK(napi_set_element(env, names, s, v));
    CHECK(napi_set_element(env, named, s, b));
  }
  uint32_t field_count = ts_language_field_count(language);
  CHECK(napi_create_array_with_length(env, field_count + 1, &fields));
  for (uint32_t f = 1; f <= field_count; f++) {
    const char *name = ts_language_field_name_for_id(language, (TSFieldId)f);
    napi_value v;
    CHECK(napi_create_string_utf8(env, name == NULL ? "" : name, NAPI_AUTO_LENGTH, &v));
    CHECK(napi_set_element(env, fields, f, v));
  }
  CHECK(napi_set_named_property(env, result, "names", names));
  CHECK(napi_set_named_property(env, result, "named", named));
  CHECK(napi_set_named_property(env, result, "fields", fields));
  return result;
}

/*
 * childrenUsage(): getrusage(RUSAGE_CHILDREN) -- CPU time of every child process this process
 * has waited for (and of their waited-for descendants), and the largest maximum RSS among them
 * (getrusage(2)). `ccx run` reads it before and after the command. { userMs, systemMs, maxRssKb },
 * or null where the platform has no getrusage.
 */
static napi_value children_usage(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
#if defined(__unix__) || defined(__APPLE__)
  struct rusage usage;
  if (getrusage(RUSAGE_CHILDREN, &usage) != 0) {
    CHECK(napi_get_null(env, &result));
    return result;
  }
  double user_ms = (double)usage.ru_utime.tv_sec * 1000.0 + (double)usage.ru_utime.tv_usec / 1000.0;
  double system_ms = (double)usage.ru_stime.tv_sec * 1000.0 + (double)usage.ru_stime.tv_usec / 1000.0;
#if defined(__APPLE__)
  double max_rss_kb = (double)usage.ru_maxrss / 1024.0; /* bytes on macOS */
#else
  double max_rss_kb = (double)usage.ru_maxrss; /* kilobytes on Linux */
#endif
  napi_value user, sys, rss;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_double(env, user_ms, &user));
  CHECK(napi_create_double(env, system_ms, &sys));
  CHECK(napi_create_double(env, max_rss_kb, &rss));
  CHECK(napi_set_named_property(env, result, "userMs", user));
  CHECK(napi_set_named_property(env, result, "systemMs", sys));
  CHECK(napi_set_named_property(env, result, "maxRssKb", rss));
#else
  CHECK(napi_get_null(env, &result));
#endif
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"flatten", NULL, flatten, NULL, NULL, NULL, napi_default, NULL},
      {"symbols", NULL, symbols, NULL, NULL, NULL, napi_default, NULL},
      {"childrenUsage", NULL, children_usage, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 3, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
