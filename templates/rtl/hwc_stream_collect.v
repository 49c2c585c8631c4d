// hwc RTL kernel library: collects P pixels of PW bits (one per input beat) into one word of P*PW bits,
// pixel p at [p*PW +: PW], offered as one output beat. The first P - 1 pixels of a frame shift into
// `part`; the last one loads the whole word into the output register `word` (which changes once per
// frame, so the logic after it switches once per frame), when it is empty or being taken: the next
// frame's pixels keep arriving while a word waits. rst (synchronous, active high) empties it. Verilog-2005.
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
    output reg  [PW*P-1:0] out_data
);
    reg [CW-1:0] count;
    wire last = count == P - 1;
    assign in_ready = !last || !out_valid || out_ready;
    wire take = in_valid && in_ready;
    always @(posedge clk)
        if (rst) begin
            out_valid <= 1'b0;
            count <= {CW{1'b0}};
        end else begin
            if (out_ready) out_valid <= 1'b0;
            if (take) begin
                count <= last ? {CW{1'b0}} : count + 1'b1;
                if (last) out_valid <= 1'b1;
            end
        end
    generate
        if (P == 1) begin : g_one
            always @(posedge clk) if (take) out_data <= in_data;
        end else if (P == 2) begin : g_two
            reg [PW-1:0] part;
            always @(posedge clk) if (take) begin
                if (last) out_data <= {in_data, part};
                part <= in_data;
            end
        end else begin : g_shift
            reg [PW*(P-1)-1:0] part;
            always @(posedge clk) if (take) begin
                if (last) out_data <= {in_data, part};
                part <= {in_data, part[PW*(P-1)-1:PW]};
            end
        end
    endgenerate
endmodule
