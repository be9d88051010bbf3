import { type AddToPrincipalPolicyResult, ManagedPolicy, type PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';

/**
 * A role whose granted statements go into one customer-managed policy attached to it, not into an
 * inline policy: PCI DSS and NIST 800-53 (IAMNoInlinePolicy) want permissions as standalone,
 * versioned policies an auditor can list and review. Every CDK grant (`grantWrite`,
 * `addToRolePolicy`, …) lands there; the policy is a child of the role, so acknowledgements made on
 * the role still cover its findings.
 */
export class ManagedPolicyRole extends Role {
  private grantsPolicy?: ManagedPolicy;

  override addToPrincipalPolicy(statement: PolicyStatement): AddToPrincipalPolicyResult {
    this.grantsPolicy ??= new ManagedPolicy(this, 'Grants', { roles: [this], description: `Permissions of ${this.node.path}` });
    this.grantsPolicy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.grantsPolicy };
  }
}
