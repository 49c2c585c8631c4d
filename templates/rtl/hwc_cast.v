// hwc RTL kernel library: fixed-point cast, exactly `dst_t y = x;` of ap_fixed/ac_fixed.
// Part of hwc (templates/rtl), copied into every generated design. Verilog-2005.
//
// x is a signed mantissa of IW bits (unsigned values arrive zero-extended by one bit) with real value
// x * 2^-F_in. y is the mantissa of the destination type (OW bits, signed when OSIGNED) with F_out
// fractional bits; S = F_in - F_out bits are dropped (S > 0) or appended (S < 0).
// 1. rounding of q = floor(x / 2^S) by RND (half: first dropped bit, sticky: any lower dropped bit):
//    0 TRN: q | 1 TRN_ZERO: q + neg&(half|sticky) | 2 RND: q + half | 3 RND_ZERO: q + half&(sticky|neg)
//    4 RND_INF: q + half&(sticky|~neg) | 5 RND_MIN_INF: q + half&sticky | 6 RND_CONV: q + half&(sticky|q[0])
// 2. overflow of the rounded q by OVF: 0 WRAP (low OW bits) | 1 SAT (clamp) | 2 SAT_ZERO (0 when out of
//    range) | 3 SAT_SYM (signed: clamp to [-max, max]; unsigned: as SAT).
// The same formulas as compiler/sim/fixed.py (docs/FIXED_POINT.md).
module hwc_cast #(
    parameter IW = 8,
    parameter S = 0,
    parameter OW = 8,
    parameter OSIGNED = 1,
    parameter RND = 0,
    parameter OVF = 0
) (
    input  wire signed [IW-1:0] x,
    output wire        [OW-1:0] y
);
    localparam SP = (S > 0) ? S : 0;               // dropped bits
    localparam SN = (S < 0) ? -S : 0;              // appended bits
    localparam XW = IW + SP + 1;                   // x, sign-extended so that bit SP-1 exists
    localparam CW = ((IW + SN > OW) ? IW + SN : OW) + 3;  // holds the rounded value and the type's bounds
    localparam [CW-1:0] ONE = 1;
    localparam signed [CW-1:0] HI = OSIGNED ? (ONE << (OW - 1)) - ONE : (ONE << OW) - ONE;
    localparam signed [CW-1:0] LO = (!OSIGNED) ? {CW{1'b0}} : (OVF == 3) ? -HI : -(ONE << (OW - 1));

    localparam SPM1 = (SP > 0) ? SP - 1 : 0;      // the first dropped bit
    localparam [XW-1:0] ONE_X = 1;
    localparam [XW-1:0] BELOW = (ONE_X << SPM1) - ONE_X;  // the dropped bits under it

    // one combinational block (an event-driven simulator evaluates it once per new x)
    reg signed [XW-1:0] xe;
    reg signed [CW-1:0] fl, q;
    reg half, sticky, neg, inc;
    reg [OW-1:0] yr;
    always @* begin
        xe = x;
        neg = x[IW-1];
        half = (SP > 0) && xe[SPM1];
        sticky = (SP > 1) && ((xe & BELOW) != 0);
        fl = (xe >>> SP) <<< SN;  // floor(x / 2^S), exact in CW bits
        case (RND)
            1: inc = neg & (half | sticky);
            2: inc = half;
            3: inc = half & (sticky | neg);
            4: inc = half & (sticky | ~neg);
            5: inc = half & sticky;
            6: inc = half & (sticky | fl[0]);
            default: inc = 1'b0;
        endcase
        q = fl + $signed({1'b0, inc});
        if (OVF == 0 || (q <= HI && q >= LO)) yr = q[OW-1:0];
        else if (OVF == 2) yr = {OW{1'b0}};
        else if (q > HI) yr = HI[OW-1:0];
        else yr = LO[OW-1:0];
    end
    assign y = yr;
endmodule
