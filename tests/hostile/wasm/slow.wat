;; expect: time limit: ran past the host's 250 ms wall-clock limit
;; Divisions cost many cycles for one unit of fuel: fuel alone would allow minutes.
(module
  (memory (export "memory") 17)
  (func (export "steward_abi_version") (result i32) (i32.const 1))
  (func (export "steward_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "steward_config") (param i32 i32) (result i64) (i64.const 0))
  (func (export "steward_classify") (param i32 i32) (result i64)
    (local $d i64)
    (loop $slow
      (local.set $d (i64.div_u (i64.div_u (i64.div_u (i64.div_u
        (i64.or (local.get $d) (i64.const 0x7000000000000000))
        (i64.const 3)) (i64.const 5)) (i64.const 7)) (i64.const 11)))
      (br $slow))
    (i64.const 0)))
