// hwc RTL kernel library: collects P pixels of PW bits (one per input beat) into one word of P*PW bits,
// pixel p at [p*PW +: PW], offered as one output beat. While the word waits (out_valid, !out_ready) no
// pixel is taken; the beat that takes the word may bring the next frame's first pixel in the same cycle.
// rst (synchronous, active high) empties it. Verilog-2005.
module hwc_stream_collect #(
    parameter PW = 1,
    parameter P = 1,
    parameter CW = 1  // counter bits: P - 1 must fit
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            in_valid,
    output wire            in_ready,
    input  wire [PW-1:0]   in_data,
    output reg             out_valid,
    input  wire            out_ready,
    output wire [PW*P-1:0] out_data
);
    reg [PW*P-1:0] word;
    reg [CW-1:0] count;
    assign in_ready = !out_valid || out_ready;
    wire take = in_valid && in_ready;
    always @(posedge clk)
        if (rst) begin
            out_valid <= 1'b0;
            count <= {CW{1'b0}};
        end else begin
            if (out_ready) out_valid <= 1'b0;
            if (take) begin
                if (count == P - 1) begin
                    count <= {CW{1'b0}};
                    out_valid <= 1'b1;
                end else
                    count <= count + 1'b1;
            end
        end
    generate
        if (P == 1) begin : g_one
            always @(posedge clk) if (take) word <= in_data;
        end else begin : g_shift
            always @(posedge clk) if (take) word <= {in_data, word[PW*P-1:PW]};
        end
    endgenerate
    assign out_data = word;
endmodule
