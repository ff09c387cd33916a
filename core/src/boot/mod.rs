//! CKKS bootstrapping: ModRaise, CoeffToSlot, EvalMod, SlotToCoeff, sparse-secret encapsulation.
