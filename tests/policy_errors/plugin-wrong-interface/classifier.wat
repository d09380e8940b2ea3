;; Asks the host for WASI's fd_write: plug-ins get no host functions at all.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "steward_abi_version") (result i32) (i32.const 1))
  (func (export "steward_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "steward_config") (param i32 i32) (result i64) (i64.const 0))
  (func (export "steward_classify") (param i32 i32) (result i64) (i64.const 0)))
