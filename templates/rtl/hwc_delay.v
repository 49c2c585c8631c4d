// hwc RTL kernel library: D clock-enabled register stages on a W-bit bus (balances the latency of
// paths that join, e.g. a residual connection). D = 0 is a wire. Data registers have no reset.
module hwc_delay #(
    parameter W = 1,
    parameter D = 1
) (
    input  wire         clk,
    input  wire         ce,
    input  wire [W-1:0] x,
    output wire [W-1:0] y
);
    generate
        if (D == 0) begin : g_wire
            assign y = x;
        end else begin : g_regs
            reg [W*D-1:0] r;  // stage k at [k*W +: W]
            always @(posedge clk)
                if (ce) r <= (r << W) | x;
            assign y = r[(D-1)*W +: W];
        end
    endgenerate
endmodule
