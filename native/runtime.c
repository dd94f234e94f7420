/*
 * The tree-sitter runtime, compiled from the sources node-tree-sitter vendors (its own
 * single-file amalgamation), so ccx_flatten reads grammars with the same runtime version that
 * node-tree-sitter uses.
 */
#include "lib.c"
