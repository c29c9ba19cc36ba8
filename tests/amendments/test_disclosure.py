"""R-AMD-6 (d)(5): a release packet that carries disputed information carries the
request, the denial, the statement of disagreement and the rebuttal; one that does
not, does not. A real packet, built by the release desk, read with pypdf."""

from __future__ import annotations

from recordroom.amendments import decisions
from recordroom.release import packets, scope
from tests.release.makers import file_doc, page_texts


def _packet(actor, req):
    scope.select_documents(actor=actor, req=req)
    packet = packets.build_packet(actor=actor, req=req)
    return packet, page_texts(packets.packet_bytes(packet))


def _deny(actor, req, note):
    decisions.decide(actor=actor, req=req, deny=[note.pk], ground="accurate",
                     basis="Dr. Osler recorded the history you gave.")  # fmt: skip


def test_r_amd_6_a_packet_with_the_disputed_entry_carries_the_dispute(
    make_amendment, him_actor, note, make_request, roi_actor, patient, facility
):
    amd = make_amendment()
    _deny(him_actor, amd, note)
    decisions.file_disagreement(actor=him_actor, req=amd,
                                text="I have never smoked in my life.")  # fmt: skip
    decisions.write_rebuttal(actor=him_actor, req=amd,
                             text="The smoking history was taken from the patient.")  # fmt: skip
    file_doc(patient=patient, facility=facility, title="CBC", code="11502-2",
             days_ago=11, pages=[["Hemoglobin 13.2 g/dL"]])  # fmt: skip
    packet, texts = _packet(roi_actor, make_request(patient))
    # cover, index, the note, the CBC, then the dispute
    assert packet.pages == len(texts) == 5
    dispute = texts[4].replace("\n", " ")
    assert "Remove that I smoke" in dispute  # the request
    assert "The note confuses me with my brother." in dispute  # its reason
    assert "accurate and complete" in dispute  # the denial
    assert "Dr. Osler recorded the history you gave." in dispute
    assert "I have never smoked in my life." in dispute  # the statement
    assert "The smoking history was taken from the patient." in dispute  # rebuttal
    assert f"{packet.release_number} · page 5 of 5" in dispute  # stamped like the rest
    assert "R-AMD" not in dispute
    assert f"Amendment request {amd.number}" in texts[1]  # listed in the index
    (part,) = [c for c in packet.contents if c["part"] == "amendment-dispute"]
    assert part["documents"] == [str(note.pk)] and part["first"] == part["last"] == 5
    assert part["statement"] is True and part["rebuttal"] is True


def test_r_amd_6_without_a_statement_only_if_the_patient_asked(
    make_amendment, him_actor, note, make_request, roi_actor, patient
):
    amd = make_amendment()
    _deny(him_actor, amd, note)
    packet, texts = _packet(roi_actor, make_request(patient))
    assert packet.pages == 3  # cover, index, the note: nothing was asked
    assert not any("Remove that I smoke" in t for t in texts)
    decisions.ask_to_include(actor=him_actor, req=amd)
    packet, texts = _packet(roi_actor, make_request(patient))
    assert packet.pages == 4 and "Remove that I smoke" in texts[3]
    assert "statement of disagreement, received" not in texts[3]


def test_r_amd_6_a_packet_without_the_disputed_entry_carries_nothing(
    make_amendment, him_actor, note, make_request, roi_actor, patient, facility
):
    amd = make_amendment()
    _deny(him_actor, amd, note)
    decisions.file_disagreement(actor=him_actor, req=amd, text="I disagree.")
    file_doc(patient=patient, facility=facility, title="CBC", code="11502-2",
             days_ago=11, pages=[["Hemoglobin 13.2 g/dL"]])  # fmt: skip
    packet, texts = _packet(roi_actor, make_request(patient, entire_record=False,
                                                    document_types=["11502-2"]))  # fmt: skip
    assert packet.pages == 3
    assert not any(c["part"] == "amendment-dispute" for c in packet.contents)
