;; expect: bad result: line 1: more than 16 fields in one record
;; A 1 MiB result of distinct keys `a=\t`, `b=\t`, ... in one record: parsed in
;; linear time and refused, rather than compared key against key.
(module
  (memory (export "memory") 17)
  (func (export "steward_abi_version") (result i32) (i32.const 1))
  (func (export "steward_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "steward_config") (param i32 i32) (result i64) (i64.const 0))
  (func (export "steward_classify") (param i32 i32) (result i64)
    (local $i i32) (local $n i32)
    ;; at 0x10000: "kXXXX=\t" records of 8 bytes, XXXX the index in letters
    (loop $fill
      (local.set $n (i32.add (i32.const 0x10000) (i32.mul (local.get $i) (i32.const 8))))
      (i32.store8 (local.get $n) (i32.const 107))
      (i32.store8 (i32.add (local.get $n) (i32.const 1)) (i32.add (i32.const 97) (i32.rem_u (local.get $i) (i32.const 26))))
      (i32.store8 (i32.add (local.get $n) (i32.const 2)) (i32.add (i32.const 97) (i32.rem_u (i32.div_u (local.get $i) (i32.const 26)) (i32.const 26))))
      (i32.store8 (i32.add (local.get $n) (i32.const 3)) (i32.add (i32.const 97) (i32.rem_u (i32.div_u (local.get $i) (i32.const 676)) (i32.const 26))))
      (i32.store8 (i32.add (local.get $n) (i32.const 4)) (i32.add (i32.const 97) (i32.rem_u (i32.div_u (local.get $i) (i32.const 17576)) (i32.const 26))))
      (i32.store8 (i32.add (local.get $n) (i32.const 5)) (i32.const 61))
      (i32.store8 (i32.add (local.get $n) (i32.const 6)) (i32.const 49))
      (i32.store8 (i32.add (local.get $n) (i32.const 7)) (i32.const 9))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 131072))))
    (i64.or (i64.shl (i64.const 0x10000) (i64.const 32)) (i64.const 1048576))))
