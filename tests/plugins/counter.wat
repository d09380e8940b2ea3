;; A classify plug-in that tries to remember: it counts its calls in a global and
;; in memory, and answers `repair.general` on its first call, `repair.leak` after.
;; The host runs every call in a fresh instance, so every answer is the first.
(module
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (data (i32.const 16) "category=repair.general\n")
  (data (i32.const 48) "category=repair.leak\n")
  (func (export "steward_abi_version") (result i32) (i32.const 1))
  (func (export "steward_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "steward_config") (param i32 i32) (result i64) (i64.const 0))
  (func (export "steward_classify") (param i32 i32) (result i64)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.store8 (i32.const 8) (i32.add (i32.load8_u (i32.const 8)) (i32.const 1)))
    (if (result i64)
        (i32.and (i32.eq (global.get $calls) (i32.const 1))
                 (i32.eq (i32.load8_u (i32.const 8)) (i32.const 1)))
      (then (i64.const 0x0000001000000018))
      (else (i64.const 0x0000003000000015)))))
