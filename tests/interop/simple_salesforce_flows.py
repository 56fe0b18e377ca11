"""Normal simple-salesforce flows against the emulator; prints one JSON object of results.

Reads SF_INSTANCE_URL, SF_ACCESS_TOKEN and SF_API_VERSION; trusts the emulator's self-signed
certificate through REQUESTS_CA_BUNDLE.
"""
import json
import os

from simple_salesforce import Salesforce

sf = Salesforce(
    instance_url=os.environ["SF_INSTANCE_URL"],
    session_id=os.environ["SF_ACCESS_TOKEN"],
    version=os.environ["SF_API_VERSION"],
)
out = {}
first = sf.query("SELECT Id, Name FROM Account ORDER BY Name LIMIT 5")
out["query"] = {"totalSize": first["totalSize"], "names": [r["Name"] for r in first["records"]]}
everything = sf.query_all("SELECT Id FROM Contact")
out["query_all"] = {"totalSize": everything["totalSize"], "rows": len(everything["records"])}
describe = sf.Account.describe()
out["describe"] = {"name": describe["name"], "fields": len(describe["fields"])}
created = sf.Lead.create({"LastName": "Interop", "Company": "Simple Salesforce Ltd"})
out["create"] = {"success": created["success"], "id": created["id"]}
status = sf.Lead.update(created["id"], {"Company": "Simple Salesforce Inc"})
out["update"] = {"status": status}
record = sf.Lead.get(created["id"])
out["get"] = {"Company": record["Company"], "type": record["attributes"]["type"]}
found = sf.search("FIND {Interop} IN NAME FIELDS RETURNING Lead(Id, Company)")
out["search"] = {
    "ids": [r["Id"] for r in found["searchRecords"]],
    "companies": [r["Company"] for r in found["searchRecords"]],
}
quick = sf.quick_search("Interop")
out["quick_search"] = {"types": sorted({r["attributes"]["type"] for r in quick["searchRecords"]})}
print(json.dumps(out))
