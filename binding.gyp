{
  "targets": [
    {
      "target_name": "ccx_flatten",
      "sources": [
        "native/flatten.c",
        "native/runtime.c"
      ],
      "include_dirs": [
        "<!(node -p \"require('path').join(require('path').dirname(require.resolve('tree-sitter/package.json')), 'vendor/tree-sitter/lib/include')\")",
        "<!(node -p \"require('path').join(require('path').dirname(require.resolve('tree-sitter/package.json')), 'vendor/tree-sitter/lib/src')\")"
      ],
      "cflags_c": ["-std=c11", "-O2", "-fvisibility=hidden"],
      "defines": ["_POSIX_C_SOURCE=200112L", "_DEFAULT_SOURCE", "NAPI_VERSION=8"],
      "xcode_settings": { "OTHER_CFLAGS": ["-std=c11", "-O2"] },
      "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/std:c11"] } }
    }
  ]
}
