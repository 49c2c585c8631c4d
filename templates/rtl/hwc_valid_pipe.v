// hwc RTL kernel library: the valid bit (or any 1-bit side signal) of an L-stage pipeline.
// out_valid is in_valid delayed by L clock-enabled cycles; rst (synchronous, active high) clears the
// stages. L = 0 is a wire. Verilog-2005.
module hwc_valid_pipe #(
    parameter L = 1
) (
    input  wire clk,
    input  wire rst,
    input  wire ce,
    input  wire in_valid,
    output wire out_valid
);
    generate
        if (L == 0) begin : g_wire
            assign out_valid = in_valid;
        end else begin : g_regs
            reg [L-1:0] v;
            always @(posedge clk)
                if (rst) v <= {L{1'b0}};
                else if (ce) v <= (v << 1) | in_valid;
            assign out_valid = v[L-1];
        end
    endgenerate
endmodule
