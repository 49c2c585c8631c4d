// hwc RTL kernel library: AXI4-Stream flow control around an L-stage pipeline that accepts one sample
// per beat. The whole pipeline advances (ce = 1) unless its last stage holds a beat the consumer does not
// take: ce = !m_tvalid || m_tready, and s_tready = ce. No beat is lost or duplicated; tlast travels with
// its beat. m_tvalid and m_tlast are registers; s_tready depends combinationally on m_tready.
// L = 0 (a combinational design) passes the handshake through. rst: synchronous, active high.
module hwc_axis_ctrl #(
    parameter L = 1
) (
    input  wire clk,
    input  wire rst,
    input  wire s_tvalid,
    output wire s_tready,
    input  wire s_tlast,
    output wire m_tvalid,
    input  wire m_tready,
    output wire m_tlast,
    output wire ce
);
    generate
        if (L == 0) begin : g_comb
            assign ce = 1'b1;
            assign s_tready = m_tready;
        end else begin : g_pipe
            assign ce = !m_tvalid || m_tready;
            assign s_tready = ce;
        end
    endgenerate
    hwc_valid_pipe #(.L(L)) valid (.clk(clk), .rst(rst), .ce(ce), .in_valid(s_tvalid), .out_valid(m_tvalid));
    hwc_valid_pipe #(.L(L)) last (.clk(clk), .rst(rst), .ce(ce), .in_valid(s_tlast), .out_valid(m_tlast));
endmodule
