;; Rejects every config with an `error=` record.
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "error=no keyword table")
  (func (export "steward_abi_version") (result i32) (i32.const 1))
  (func (export "steward_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "steward_config") (param i32 i32) (result i64) (i64.const 0x0000001000000016))
  (func (export "steward_classify") (param i32 i32) (result i64) (i64.const 0)))
