;; expect: out of memory
(module
  (memory (export "memory") 17)
  (func (export "steward_abi_version") (result i32) (i32.const 1))
  (func (export "steward_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "steward_config") (param i32 i32) (result i64) (i64.const 0))
  (func (export "steward_classify") (param i32 i32) (result i64)
    (loop $grow (drop (memory.grow (i32.const 16))) (br $grow))
    (i64.const 0)))
