;; A classify plug-in that misbehaves on request: the first byte of the ticket's
;; text picks the failure. Anything else gets a good answer, `repair.general`.
;;   T trap (unreachable)        L endless loop (fuel)      M memory.grow forever
;;   R unbounded recursion       G result not UTF-8         F result not records
;;   U unknown category          B result outside memory    E error= record
;;   S slow: an endless chain of 64-bit divisions, each many cycles for one unit of
;;     fuel, so the wall-clock limit stops it long before the fuel ceiling would
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "category=repair.general\n")
  (data (i32.const 64) "\ff\fe\fd")
  (data (i32.const 80) "hello world")
  (data (i32.const 96) "category=no.such")
  (data (i32.const 128) "error=I refuse")
  (func (export "steward_abi_version") (result i32) (i32.const 1))
  (func (export "steward_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "steward_config") (param i32 i32) (result i64) (i64.const 0))
  (func $pack (param $p i32) (param $l i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32))
            (i64.extend_i32_u (local.get $l))))
  (func $recurse (param i32) (result i32)
    (call $recurse (i32.add (local.get 0) (i32.const 1))))
  (func (export "steward_classify") (param $p i32) (param $l i32) (result i64)
    (local $i i32) (local $c i32) (local $d i64)
    (block $found
      (loop $scan
        (br_if $found (i32.ge_u (local.get $i) (local.get $l)))
        (br_if $found (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 10)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (local.set $c (i32.load8_u (i32.add (local.get $p) (i32.add (local.get $i) (i32.const 1)))))
    (if (i32.eq (local.get $c) (i32.const 84)) (then unreachable))
    (if (i32.eq (local.get $c) (i32.const 76)) (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $c) (i32.const 83))
      (then (loop $slow
        (local.set $d (i64.div_u (i64.div_u (i64.div_u (i64.div_u
          (i64.or (local.get $d) (i64.const 0x7000000000000000))
          (i64.const 3)) (i64.const 5)) (i64.const 7)) (i64.const 11)))
        (br $slow))))
    (if (i32.eq (local.get $c) (i32.const 77))
      (then (loop $grow (drop (memory.grow (i32.const 16))) (br $grow))))
    (if (i32.eq (local.get $c) (i32.const 82)) (then (drop (call $recurse (i32.const 0)))))
    (if (i32.eq (local.get $c) (i32.const 71)) (then (return (call $pack (i32.const 64) (i32.const 3)))))
    (if (i32.eq (local.get $c) (i32.const 70)) (then (return (call $pack (i32.const 80) (i32.const 11)))))
    (if (i32.eq (local.get $c) (i32.const 85)) (then (return (call $pack (i32.const 96) (i32.const 16)))))
    (if (i32.eq (local.get $c) (i32.const 66)) (then (return (i64.const 0xFFFF000000000010))))
    (if (i32.eq (local.get $c) (i32.const 69)) (then (return (call $pack (i32.const 128) (i32.const 14)))))
    (call $pack (i32.const 16) (i32.const 24))))
