// The right panel: the lead behind the open conversation. Status offers only the current status and the ones
// the API says may come next (allowedNextStatuses); assignment is for Managers and Admins; tags; notes.

import { h, $, clear, setStatus } from "./dom.js";
import { fullLabel } from "./format.js";
import { humanStatus } from "./inbox.js";

export class LeadPanel {
  /**
   * @param role "manager" (Manager or Admin) or "sales"
   * @param agents ACTIVE and INACTIVE agents from the metrics (managers only), [] for Sales
   */
  constructor(api, { role, agents, me, onChanged, onError }) {
    this.api = api;
    this.role = role;
    this.agents = agents;
    this.me = me;
    this.onChanged = onChanged;
    this.onError = onError;
    this.lead = null;
    this.leadId = null;

    this.body = $("#lead-body");
    this.empty = $("#lead-empty");
    this.result = $("#lead-result");
    this.statusSelect = $("#lead-status");
    this.assignSelect = $("#lead-assignee");
    this.tagsInput = $("#lead-tags");
    this.noteInput = $("#lead-note");

    $("#lead-status-form").addEventListener("submit", (e) => { e.preventDefault(); this.saveStatus(); });
    $("#lead-assign-form").addEventListener("submit", (e) => { e.preventDefault(); this.assign(); });
    $("#lead-tags-form").addEventListener("submit", (e) => { e.preventDefault(); this.saveTags(); });
    $("#lead-note-form").addEventListener("submit", (e) => { e.preventDefault(); this.addNote(); });
    $("#lead-assign-form").hidden = role !== "manager";
  }

  /** @param displayName the conversation's name (fallback chain), used while the lead itself has no name */
  async show(leadId, displayName = null) {
    if (leadId !== this.leadId) setStatus(this.result, "");
    if (displayName || leadId !== this.leadId) this.displayName = displayName;
    this.leadId = leadId;
    if (!leadId) {
      this.lead = null;
      this.body.hidden = true;
      this.empty.hidden = false;
      return;
    }
    try {
      const lead = await this.api.getLead(leadId);
      if (leadId !== this.leadId) return;
      this.lead = lead;
      this.render();
    } catch (error) {
      if (leadId !== this.leadId) return;
      setStatus(this.result, `Could not load the lead: ${error.describe ? error.describe() : error.message}`, "error");
      if (this.onError) this.onError(error);
    }
  }

  refresh() {
    return this.leadId ? this.show(this.leadId) : Promise.resolve();
  }

  agentName(id) {
    if (!id) return null;
    const agent = this.agents.find((a) => a.id === id);
    if (agent) return agent.id === (this.me && this.me.id) ? `${agent.name} (you)` : agent.name;
    return null;
  }

  render() {
    const lead = this.lead;
    this.empty.hidden = true;
    this.body.hidden = false;
    $("#lead-name").textContent = lead.name || this.displayName || lead.externalUserId;

    // Status: the current one plus what may come next; a final status cannot move.
    clear(this.statusSelect);
    for (const status of [lead.status, ...lead.allowedNextStatuses]) {
      this.statusSelect.append(h("option", { value: status, selected: status === lead.status },
        status === lead.status ? `${humanStatus(status)} (current)` : humanStatus(status)));
    }
    const final = lead.allowedNextStatuses.length === 0;
    this.statusSelect.disabled = final;
    $("#lead-status-save").disabled = final;
    $("#lead-status-help").textContent = final
      ? `${humanStatus(lead.status)} is final: the lead cannot move any more.`
      : "Only the statuses this lead may move to next are offered.";

    // Assignment.
    const assignee = this.agentName(lead.assignedSalesId);
    $("#lead-assigned").textContent = lead.assignedSalesId
      ? (assignee || "Another agent") + (lead.assignedAt ? ` since ${fullLabel(lead.assignedAt)}` : "")
      : "Nobody yet";
    if (this.role === "manager") this.renderAssignOptions(lead);

    // Tags.
    this.tagsInput.value = lead.tags.join(", ");
    const tagList = $("#lead-tag-list");
    clear(tagList);
    tagList.append(...lead.tags.map((tag) => h("li", { class: "tag", dir: "auto" }, tag)));
    tagList.hidden = !lead.tags.length;

    // Facts.
    const facts = $("#lead-facts");
    clear(facts);
    const fact = (label, value) => (value || value === 0 ? [h("dt", {}, label), h("dd", { dir: "auto" }, String(value))] : []);
    facts.append(
      ...fact("Channel", lead.sourceChannel),
      ...fact("Provider user id", lead.externalUserId),
      ...fact("Phone", lead.phone),
      ...fact("Email", lead.email),
      ...fact("Score", lead.score),
      ...fact("Last contact", lead.lastContactAt && fullLabel(lead.lastContactAt)),
      ...fact("Created", fullLabel(lead.createdAt)));
  }

  renderAssignOptions(lead) {
    clear(this.assignSelect);
    this.assignSelect.append(h("option", { value: "" }, "Choose an agent…"));
    this.assignSelect.append(h("option", { value: "AUTO" }, "Automatic (fewest open leads)"));
    for (const agent of this.agents.filter((a) => a.status === "ACTIVE")) {
      this.assignSelect.append(h("option", { value: agent.id, selected: agent.id === lead.assignedSalesId },
        `${agent.name}${agent.id === (this.me && this.me.id) ? " (you)" : ""} · ${agent.role.toLowerCase()} · `
        + `${agent.assignedLeads} leads`));
    }
  }

  async run(action, success) {
    const forms = document.querySelectorAll("#lead-panel form");
    forms.forEach((f) => f.setAttribute("aria-busy", "true"));
    try {
      this.lead = await action();
      this.render();
      setStatus(this.result, success, "ok");
      if (this.onChanged) this.onChanged(this.lead);
    } catch (error) {
      setStatus(this.result, explainLeadError(error), "error");
      if (error.status === 409) this.refresh(); // someone else moved it: show where it is now
      if (this.onError) this.onError(error);
    } finally {
      forms.forEach((f) => f.setAttribute("aria-busy", "false"));
    }
  }

  saveStatus() {
    const status = this.statusSelect.value;
    if (!this.lead || status === this.lead.status) {
      setStatus(this.result, "Choose a new status first.", "info");
      return;
    }
    this.run(() => this.api.updateLead(this.lead.id, { status }), `Status changed to ${humanStatus(status)}.`);
  }

  assign() {
    const value = this.assignSelect.value;
    if (!this.lead || !value) {
      setStatus(this.result, "Choose an agent first.", "info");
      return;
    }
    const body = value === "AUTO" ? { mode: "AUTO_ROUND_ROBIN" } : { salesAgentId: value, mode: "MANUAL" };
    this.run(() => this.api.assignLead(this.lead.id, body), "Lead assigned.");
  }

  saveTags() {
    if (!this.lead) return;
    const tags = [...new Set(this.tagsInput.value.split(",").map((t) => t.trim()).filter(Boolean))];
    const tooLong = tags.find((t) => t.length > 50);
    if (tooLong) return setStatus(this.result, `A tag may be at most 50 characters: “${tooLong}”.`, "error");
    if (tags.length > 50) return setStatus(this.result, "A lead may have at most 50 tags.", "error");
    this.run(() => this.api.updateLead(this.lead.id, { tags }), tags.length ? "Tags saved." : "Tags cleared.");
  }

  addNote() {
    const note = this.noteInput.value.trim();
    if (!this.lead || !note) return setStatus(this.result, "Write a note first.", "info");
    this.run(async () => {
      const lead = await this.api.updateLead(this.lead.id, { note });
      this.noteInput.value = "";
      return lead;
    }, "Note added to the lead's activity log.");
  }
}

function explainLeadError(error) {
  if (error.code === "invalid_status_transition") {
    const allowed = error.details && error.details.allowedNextStatuses;
    return `That move is not allowed${allowed ? `; allowed next: ${allowed.map(humanStatus).join(", ") || "none"}` : ""}. `
      + "The lead may have been changed by someone else; it has been reloaded.";
  }
  if (error.code === "no_active_agent") return "There is no active agent to assign the lead to.";
  return error.describe ? error.describe() : error.message;
}
